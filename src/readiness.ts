/**
 * What readiness is made of, apart from the plugin that serves it (plugins/use-readiness.ts): the
 * database and the events each contribute checks, without importing the GraphQL server's plugins.
 */

/** One dependency readiness depends on. */
export interface ReadinessCheck {
  /** Shown in the JSON body. */
  name: string;
  /** Resolves when healthy; rejects (or exceeds `timeoutMs`) when not. */
  check: () => Promise<unknown>;
  /** A failing non-critical check is reported but keeps the service ready. Default true. */
  critical?: boolean;
}
