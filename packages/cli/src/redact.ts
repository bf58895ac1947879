/** Options whose values are secrets: never echoed, not even inside an error message. */
const SECRET_OPTIONS = ['--secret', '--control-token']

/** A function that replaces the secrets given on `argv` with `<redacted>`. */
export function redactor(argv: readonly string[]): (text: string) => string {
  const secrets: string[] = []
  argv.forEach((arg, i) => {
    for (const option of SECRET_OPTIONS) {
      if (arg === option && argv[i + 1] !== undefined) secrets.push(argv[i + 1] as string)
      if (arg.startsWith(`${option}=`)) secrets.push(arg.slice(option.length + 1))
    }
  })
  const present = secrets.filter((s) => s.length > 0)
  return (text) => present.reduce((out, secret) => out.split(secret).join('<redacted>'), text)
}

/** `url` with its user and password replaced by `***` (a Redis URL may carry a password). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    if (parsed.username !== '') parsed.username = '***'
    return parsed.toString()
  } catch {
    return '(unparsable URL)'
  }
}
