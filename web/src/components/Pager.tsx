export function Pager({
  offset,
  limit,
  total,
  onPage,
  noun,
}: {
  offset: number;
  limit: number;
  total: number;
  onPage: (offset: number) => void;
  noun: string;
}) {
  const last = Math.min(offset + limit, total);
  return (
    <nav className="pager" aria-label={`Pages of ${noun}`}>
      <button type="button" disabled={offset === 0} onClick={() => onPage(Math.max(0, offset - limit))}>
        ← Previous
      </button>
      <span aria-live="polite">
        {total === 0 ? `no ${noun}` : `${offset + 1}–${last} of ${total} ${noun}`}
      </span>
      <button type="button" disabled={last >= total} onClick={() => onPage(offset + limit)}>
        Next →
      </button>
    </nav>
  );
}
