/**
 * Just enough of a DOM for `<raft-playground>` to run in Node: elements with attributes,
 * children, text, listeners and a class list, a document to make them, `HTMLElement` and
 * `customElements`. No layout, no selectors, no events dispatched to listeners. For tests of
 * the element's logic (its lifecycle, what it writes); the browser suites test the real thing.
 */

export class FakeNode {
  readonly children: FakeNode[] = [];
  parentNode: FakeNode | null = null;
  shadowRoot: FakeNode | null = null;
  readonly attributes = new Map<string, string>();
  readonly listeners = new Map<string, ((event: unknown) => void)[]>();
  value = '';
  checked = false;
  readonly style: Record<string, string> = {};
  #text = '';
  constructor(
    readonly tagName: string,
    readonly ownerDocument: FakeDocument,
  ) {}

  setAttribute(name: string, value: string): void {
    this.attributes.set(name, String(value));
  }
  getAttribute(name: string): string | null {
    return this.attributes.get(name) ?? null;
  }
  hasAttribute(name: string): boolean {
    return this.attributes.has(name);
  }
  removeAttribute(name: string): void {
    this.attributes.delete(name);
  }
  append(...nodes: (FakeNode | string)[]): void {
    for (const node of nodes) {
      const child = typeof node === 'string' ? this.ownerDocument.createTextNode(node) : node;
      child.remove();
      child.parentNode = this;
      this.children.push(child);
    }
  }
  replaceChildren(...nodes: (FakeNode | string)[]): void {
    for (const child of this.children) child.parentNode = null;
    this.children.length = 0;
    this.#text = '';
    this.append(...nodes);
  }
  remove(): void {
    const parent = this.parentNode;
    if (parent === null) return;
    parent.children.splice(parent.children.indexOf(this), 1);
    this.parentNode = null;
  }
  get textContent(): string {
    return this.#text + this.children.map((c) => c.textContent).join('');
  }
  set textContent(value: string) {
    this.replaceChildren();
    this.#text = value;
  }
  get options(): FakeNode[] {
    return this.children.filter((c) => c.tagName === 'option');
  }
  get classList() {
    const names = () => new Set((this.getAttribute('class') ?? '').split(/\s+/).filter((n) => n !== ''));
    const write = (set: Set<string>) => this.setAttribute('class', [...set].join(' '));
    return {
      contains: (name: string) => names().has(name),
      add: (...add: string[]) => write(new Set([...names(), ...add])),
      remove: (...gone: string[]) => write(new Set([...names()].filter((n) => !gone.includes(n)))),
      toggle: (name: string, force?: boolean) => {
        const set = names();
        const on = force ?? !set.has(name);
        if (on) set.add(name);
        else set.delete(name);
        write(set);
        return on;
      },
    };
  }
  addEventListener(type: string, listener: (event: unknown) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  removeEventListener(type: string, listener: (event: unknown) => void): void {
    this.listeners.set(type, (this.listeners.get(type) ?? []).filter((l) => l !== listener));
  }
  dispatchEvent(): boolean {
    return true;
  }
  closest(): null {
    return null;
  }
  querySelector(): null {
    return null;
  }
  focus(): void {}
  attachShadow(): FakeNode {
    this.shadowRoot = this.ownerDocument.createElement('#shadow-root');
    return this.shadowRoot;
  }
  /** Every descendant, depth first. */
  *descendants(): Generator<FakeNode> {
    for (const child of this.children) {
      yield child;
      yield* child.descendants();
    }
  }
}

export class FakeDocument {
  createElement(tag: string): FakeNode {
    return new FakeNode(tag, this);
  }
  createElementNS(_namespace: string, tag: string): FakeNode {
    return new FakeNode(tag, this);
  }
  createTextNode(text: string): FakeNode {
    const node = new FakeNode('#text', this);
    node.textContent = text;
    return node;
  }
}

/**
 * Installs `HTMLElement` and `customElements` on `globalThis` (for definePlayground); returns
 * the document the elements belong to and how to make a registered element.
 */
export function installFakeDom(): { document: FakeDocument; create: (tag: string) => FakeNode } {
  const document = new FakeDocument();
  const registry = new Map<string, CustomElementConstructor>();
  class FakeHTMLElement extends FakeNode {
    constructor() {
      super('custom', document);
    }
  }
  Object.assign(globalThis, {
    HTMLElement: FakeHTMLElement,
    customElements: {
      get: (name: string) => registry.get(name),
      define: (name: string, constructor: CustomElementConstructor) => registry.set(name, constructor),
    },
  });
  return {
    document,
    create: (tag) => {
      const Element = registry.get(tag);
      if (Element === undefined) throw new Error(`no element ${tag} defined`);
      return new Element() as unknown as FakeNode;
    },
  };
}
