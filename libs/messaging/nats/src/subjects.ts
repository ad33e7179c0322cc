/** Adds `<prefix>.` to a subject once (Nest normalises an incoming subject again when it looks up its handler). */
export function prefixSubject(prefix: string | undefined, subject: string): string {
  return prefix && !subject.startsWith(`${prefix}.`) ? `${prefix}.${subject}` : subject;
}
