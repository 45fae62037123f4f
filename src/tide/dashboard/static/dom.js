// Build DOM nodes from data without innerHTML: every text from the cluster goes in as text.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function badge(state, text) {
  return h("span", { class: `badge ${state}` }, text ?? state);
}

// An object's page, in its context (the route without one means the default context).
export function objectHref(kind, namespace, name, context) {
  const parts = context ? [context, kind, namespace, name] : [kind, namespace, name];
  return `#/object/${parts.map(encodeURIComponent).join("/")}`;
}

// The query naming a context, for the server's per-object reads.
export function inContext(context) {
  return context ? `?context=${encodeURIComponent(context)}` : "";
}

export function table(headings, rows) {
  return h("table", {},
    h("thead", {}, h("tr", {}, headings.map((title) => h("th", {}, title)))),
    h("tbody", {}, rows));
}
