/**
 * A small, honest subset of Klaviyo's template language (which is Django's), for Render Template.
 *
 * Rendered:
 *  - variables `{{ name }}`, with dotted paths into the context (`{{ person.first_name }}`, `{{ event.items.0 }}`:
 *    an object member or an array index); a variable the context does not have outputs nothing, as Klaviyo's
 *    document says ("treated as FALSE and output nothing");
 *  - string and number literals as the variable (`{{ 'hello' }}`);
 *  - the filters `default` (when the value is false in Python's sense: missing, null, false, 0, "", [] or {}),
 *    `default_if_none`, `lookup` (a member by name: `{{ event|lookup:'Item Name' }}`), `safe`, `escape`,
 *    `upper`, `lower`, `capfirst`, `title` and `length`, chained left to right;
 *  - values written as Python's `str` writes them, as Django does: true → True, null → None, a list or object
 *    in Python's notation;
 *  - HTML escaping as Django's autoescape does it (`& < > " '` → `&amp; &lt; &gt; &quot; &#x27;`), in the html
 *    and amp versions; not in the text version, which is plain text (our reading: Klaviyo's document does not
 *    say, and escaping would put entities into a plain-text email). Values from `safe` and string literals
 *    (`default:'<b>x</b>'`) are not escaped, as in Django;
 *  - comments `{# … #}` (one line) are removed.
 *
 * Not rendered, left exactly as written: block tags `{% … %}` (`if`, `for`, `unsubscribe`, `web_view`, …), a
 * variable tag spanning lines (Django does not read those as tags either), and a variable with a filter outside
 * the list above or an expression we cannot read (Klaviyo would render the former or refuse the template; we do
 * not guess).
 */

/** A value on its way through filters; `safe` when it must not be escaped. */
interface Rendered {
  readonly value: unknown;
  readonly safe: boolean;
}

/** Missing from the context: outputs nothing and is false for `default`. */
const MISSING: unique symbol = Symbol("missing");

/** Django's `escape`. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#x27;");
}

function pythonRepr(value: unknown): string {
  if (typeof value === "string") return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  return pythonStr(value);
}

/** The text Python's `str` gives a JSON value. */
export function pythonStr(value: unknown): string {
  if (value === MISSING || value === undefined) return "";
  if (value === null) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string") return value;
  if (typeof value === "number") return Number.isInteger(value) ? value.toFixed(0) : String(value);
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(", ")}]`;
  if (typeof value === "object") {
    const members = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`,
    );
    return `{${members.join(", ")}}`;
  }
  return String(value);
}

/** False in Python's sense. */
function falsy(value: unknown): boolean {
  if (value === MISSING || value === undefined || value === null || value === false) return true;
  if (value === 0 || value === "") return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === "object") return Object.keys(value as object).length === 0;
  return false;
}

function member(value: unknown, key: string): unknown {
  if (Array.isArray(value)) {
    if (!/^\d+$/.test(key)) return MISSING;
    const index = Number(key);
    return index < value.length ? value[index] : MISSING;
  }
  if (typeof value === "object" && value !== null && Object.hasOwn(value, key)) {
    return (value as Record<string, unknown>)[key];
  }
  return MISSING;
}

const PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$/;
const STRING = /^(?:'([^']*)'|"([^"]*)")$/;
const NUMBER = /^-?\d+(?:\.\d+)?$/;

/** A literal or a variable: what it stands for, or undefined when it is neither. */
function operand(text: string, context: Record<string, unknown>): Rendered | undefined {
  const literal = STRING.exec(text);
  if (literal) return { value: literal[1] ?? literal[2] ?? "", safe: true };
  if (NUMBER.test(text)) return { value: Number(text), safe: true };
  if (!PATH.test(text)) return undefined;
  let value: unknown = context;
  for (const key of text.split(".")) {
    value = member(value, key);
    if (value === MISSING) break;
  }
  return { value, safe: false };
}

type Filter = (input: Rendered, arg: Rendered | undefined) => Rendered | undefined;

const text = (input: Rendered) => pythonStr(input.value);

const FILTERS: Readonly<Record<string, Filter>> = {
  default: (input, arg) => (arg === undefined ? undefined : falsy(input.value) ? arg : input),
  default_if_none: (input, arg) => (arg === undefined ? undefined : input.value === null ? arg : input),
  lookup: (input, arg) =>
    arg === undefined ? undefined : { value: member(input.value, text(arg)), safe: false },
  safe: (input) => ({ value: input.value, safe: true }),
  // Escapes now and marks the result safe, so it is not escaped twice.
  escape: (input) => ({ value: escapeHtml(text(input)), safe: true }),
  upper: (input) => ({ value: text(input).toUpperCase(), safe: input.safe }),
  lower: (input) => ({ value: text(input).toLowerCase(), safe: input.safe }),
  capfirst: (input) => {
    const t = text(input);
    return { value: t.charAt(0).toUpperCase() + t.slice(1), safe: input.safe };
  },
  title: (input) => ({
    value: text(input).replace(/[A-Za-z]+/g, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()),
    safe: input.safe,
  }),
  length: (input) => {
    const v = input.value;
    const n =
      typeof v === "string" || Array.isArray(v)
        ? v.length
        : typeof v === "object" && v !== null
          ? Object.keys(v).length
          : 0;
    return { value: n, safe: true };
  },
};

/** Splits `a|b:'x|y'|c` at the bars outside quotes. */
function splitFilters(expression: string): string[] | undefined {
  const parts: string[] = [];
  let current = "";
  let quote: string | undefined;
  for (const ch of expression) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === "|") {
      parts.push(current.trim());
      current = "";
      continue;
    }
    current += ch;
  }
  if (quote) return undefined;
  parts.push(current.trim());
  return parts;
}

/** A variable tag's output, or undefined when it is outside the subset (the tag is then left as written). */
function renderVariable(
  expression: string,
  context: Record<string, unknown>,
  autoescape: boolean,
): string | undefined {
  const parts = splitFilters(expression);
  if (!parts || parts[0] === "") return undefined;
  let current = operand(parts[0] as string, context);
  for (const part of parts.slice(1)) {
    if (!current) return undefined;
    const colon = part.indexOf(":");
    const name = (colon < 0 ? part : part.slice(0, colon)).trim();
    const filter = Object.hasOwn(FILTERS, name) ? FILTERS[name] : undefined;
    if (!filter) return undefined;
    let arg: Rendered | undefined;
    if (colon >= 0) {
      arg = operand(part.slice(colon + 1).trim(), context);
      if (!arg) return undefined;
      if (arg.value === MISSING) arg = { value: "", safe: true };
    }
    current = filter(current, arg);
  }
  if (!current) return undefined;
  const out = pythonStr(current.value);
  return autoescape && !current.safe ? escapeHtml(out) : out;
}

// Django's tokenizer: a tag never spans lines; block tags, variables and comments, leftmost first.
const TOKEN = /\{%.*?%\}|\{\{(.*?)\}\}|\{#.*?#\}/g;

/**
 * Renders `source` with `context`: variables replaced (escaped for HTML when `autoescape`), comments removed,
 * everything else as written.
 */
export function renderTemplateSource(
  source: string,
  context: Readonly<Record<string, unknown>>,
  options: { autoescape: boolean },
): string {
  return source.replace(TOKEN, (token: string, expression: string | undefined) => {
    if (token.startsWith("{#")) return "";
    if (expression === undefined) return token;
    return renderVariable(expression.trim(), context as Record<string, unknown>, options.autoescape) ?? token;
  });
}
