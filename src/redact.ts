/**
 * Scrubbing of text that came from a host (a command's stdout or stderr) before it goes into an error, a log
 * line or a result: anything an activity returns or throws lands in workflow history, which keeps it for the
 * retention period and shows it to everyone who can open the run. Pure: importable anywhere.
 */

/** What replaces a secret value. */
export const REDACTED = '***';

/** Default length of scrubbed text in messages: enough for a tool's last error lines. */
export const MAX_SCRUBBED_LENGTH = 800;

/** Text longer than this is cut before scrubbing, so the patterns never run over megabytes of output. */
const MAX_INPUT_LENGTH = 64 * 1024;

/** Key names whose values are secret: `ssl.keystore.password`, `sasl.jaas.config`, `api_token`, `client-secret`, `ssl.keystore.key`... */
const SECRET_KEY =
  String.raw`(?:[\w.\-\[]{0,200}?(?:password|passwd|secret|token|credential|jaas|authorization|private[._-]?key|api[._-]?key)[\w.\-\]]{0,200}` +
  String.raw`|(?:[\w.\-\[]{0,200}[._-])?key)`;

// key=value, key: value, "key": value and \"key\": value (JSON inside a string); the value is quoted or runs to the end of the line.
const KEY_VALUE = new RegExp(
  String.raw`((?:^|[^\w.\-])(?:\\{0,4}["'])?${SECRET_KEY}(?:\\{0,4}["'])?[ \t]*[=:][ \t]*)` +
    String.raw`(\\{1,4}"(?:(?!\\{1,4}").)*(?:\\{1,4}"|$)|"(?:[^"\\\n]|\\.)*(?:"|$)|'(?:[^'\\\n]|\\.)*(?:'|$)|[^\s"',;}\]\r\n][^\r\n]*)`,
  'gim',
);
// --password value, --password=value (tools' flags).
const FLAG_VALUE = /(--?[\w.-]*(?:password|passwd|secret|token)[\w.-]*)([ \t]+|=)(?!\*\*\*)(\S+)/gi;
// scheme://user:password@host
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]{0,30}:\/\/[^\s/:@]{0,200}):[^\s/@]{0,1000}@/gi;
// Authorization: Bearer xyz / Basic xyz
const AUTH_SCHEME = /\b(Bearer|Basic)[ \t]+[A-Za-z0-9._~+/=-]{8,}/g;
// PEM private keys.
const PEM_PRIVATE_KEY = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g;
// Long base64 runs: file contents a script carried (a base64 config file holds its passwords).
const BASE64_RUN = /[A-Za-z0-9+/]{120,}={0,2}/g;

function redactValue(prefix: string, value: string): string {
  const quote = /^(\\*["'])/.exec(value)?.[1];
  return quote ? `${prefix}${quote}${REDACTED}${quote}` : `${prefix}${REDACTED}`;
}

/** Replaces secret values with `***` (see the patterns above); the keys stay, so the message still says what was wrong. */
export function redactSecrets(text: string): string {
  return text
    .replace(PEM_PRIVATE_KEY, (_m, kind: string) => `-----BEGIN ${kind}PRIVATE KEY----- ${REDACTED}`)
    .replace(URL_CREDENTIALS, `$1:${REDACTED}@`)
    .replace(KEY_VALUE, (_m, prefix: string, value: string) => redactValue(prefix, value))
    .replace(FLAG_VALUE, `$1$2${REDACTED}`)
    .replace(AUTH_SCHEME, `$1 ${REDACTED}`)
    .replace(BASE64_RUN, (m) => `[${m.length} characters of base64 left out]`);
}

/**
 * Host output made safe for a message: cut to its last `max` characters (a tool's error is at the end of
 * its output), with secret values replaced by `***` before the cut (so a cut never splits a key from its
 * value). Use on every piece of stdout/stderr that goes into an error, a log line or a result.
 */
export function scrub(text: string, max: number = MAX_SCRUBBED_LENGTH): string {
  let input = text;
  if (input.length > MAX_INPUT_LENGTH) {
    input = input.slice(-MAX_INPUT_LENGTH);
    // The first line may have lost its key: drop it rather than show a value without one.
    input = input.slice(input.indexOf('\n') + 1);
  }
  const clean = redactSecrets(input).trim();
  return clean.length > max ? `…${clean.slice(-(max - 1))}` : clean;
}
