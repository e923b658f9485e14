/** The campaign builder's route (/campaigns/new): the builder is loaded when first shown, so its
 * YAML parser, validator and schemas stay out of the bundle every other page loads. */
import { lazy, Suspense } from "react";

const Builder = lazy(() => import("./Builder").then((m) => ({ default: m.Builder })));

export function BuilderPage() {
  return (
    <Suspense
      fallback={
        <p className="loading" aria-busy="true">
          Loading the campaign builder…
        </p>
      }
    >
      <Builder />
    </Suspense>
  );
}
