/**
 * A tiny element builder. Text always goes in through textContent (never innerHTML), so file names and messages
 * from results can never become markup in the panel.
 */
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined) element.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

/** A value for data-testid and ids: what the e2e tests and the CSS select by; keeps letters, digits, - _ and . only. */
export function testId(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^A-Za-z0-9_.-]/g, '_')).join('-');
}
