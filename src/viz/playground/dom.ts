/**
 * A few DOM helpers for the playground's view. Text always goes in as text (textContent or an
 * attribute value), never as markup, so node ids, commands and captions cannot inject anything.
 */

const SVG = 'http://www.w3.org/2000/svg';

type Attributes = Readonly<Record<string, string | number | boolean | undefined>>;

function setAll(element: Element, attributes: Attributes): void {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) element.removeAttribute(name);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
}

/** An HTML element with attributes and children (strings become text nodes). */
export function html<K extends keyof HTMLElementTagNameMap>(doc: Document, tag: K, attributes: Attributes = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const element = doc.createElement(tag);
  setAll(element, attributes);
  element.append(...children);
  return element;
}

/** An SVG element with attributes and children. */
export function svg(doc: Document, tag: string, attributes: Attributes = {}, ...children: (Node | string)[]): SVGElement {
  const element = doc.createElementNS(SVG, tag) as SVGElement;
  setAll(element, attributes);
  element.append(...children);
  return element;
}

/** Sets attributes (undefined or false removes one); only touches the DOM for a change. */
export function attrs(element: Element, attributes: Attributes): void {
  for (const [name, value] of Object.entries(attributes)) {
    const text = value === undefined || value === false ? null : value === true ? '' : String(value);
    if (element.getAttribute(name) === text) continue;
    if (text === null) element.removeAttribute(name);
    else element.setAttribute(name, text);
  }
}

/** Sets an element's text, only when it changed. */
export function text(element: Element, value: string): void {
  if (element.textContent !== value) element.textContent = value;
}
