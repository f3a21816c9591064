/** A usage error: printed as one line on stderr with a pointer to --help; exit status 64 (EX_USAGE). */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode = 64,
  ) {
    super(message);
  }
}
