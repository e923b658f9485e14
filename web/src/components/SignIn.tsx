/** Sign in with a bearer token (kept in session storage), or sign out; writes need it. */
import { useId, useState, type FormEvent } from "react";
import { setToken, useToken } from "../auth/token";

export function SignIn({ why }: { why: string }) {
  const token = useToken();
  const [draft, setDraft] = useState("");
  const id = useId();
  if (token) {
    return (
      <p className="signin">
        Signed in with a token ({token.slice(0, 12)}…).{" "}
        <button type="button" className="link-button" onClick={() => setToken(null)}>
          Sign out
        </button>
      </p>
    );
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (draft.trim()) setToken(draft);
    setDraft("");
  };
  return (
    <form className="signin" onSubmit={submit}>
      <label htmlFor={id}>API token</label>{" "}
      <input
        id={id}
        type="password"
        autoComplete="off"
        spellCheck={false}
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        aria-describedby={`${id}-why`}
      />{" "}
      <button type="submit">Sign in</button>
      <span id={`${id}-why`} className="muted block">
        {why} A token with the <code>campaigns:write</code> scope (<code>llem-api token create</code>); kept in this tab
        only.
      </span>
    </form>
  );
}
