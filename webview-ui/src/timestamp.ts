/**
 * The header's run time as people read it (the viewer's locale: "3 Dec 2026, 21:55"), with the ISO form kept for a
 * tooltip and `datetime`. A string that is not a date is shown as it is.
 */
export function readableTimestamp(iso: string, locale?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
}
