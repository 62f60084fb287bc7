import type { DiagnosticPlugin } from '../config.js';
import type { Logger } from '../logger.js';

/**
 * The benchmark's ablation switch (DIAGNOSTIC_DISABLE_PLUGINS, refused by config.ts without its
 * acknowledgement): `on(name, make)` is `[make()]`, or `[]` when `name` is switched off, so the plugin
 * list in app.ts keeps its order and reads as before. Said loudly at start: such a server is unprotected.
 */
export function pluginSwitch(disabled: ReadonlySet<DiagnosticPlugin>, logger: Logger) {
  if (disabled.size > 0) {
    logger.warn({ disabledPlugins: [...disabled] }, `!!! DIAGNOSTIC_DISABLE_PLUGINS: running WITHOUT ${[...disabled].join(', ')}. A benchmarking aid: never serve like this.`);
  }
  return {
    off: (name: DiagnosticPlugin): boolean => disabled.has(name),
    on: <T>(name: DiagnosticPlugin, make: () => T): T[] => (disabled.has(name) ? [] : [make()]),
  };
}
