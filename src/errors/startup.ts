/**
 * A failure the person running the command can fix. The message says on one line what is wrong and
 * what to do; it is printed as it is, without a stack (there is no bug to trace).
 */
export class StartupError extends Error {
  override name = 'StartupError';
}
