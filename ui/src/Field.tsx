/** One input of an action's form: its label, description and control, and what the server found wrong with it. */
import { useMemo, useState } from "preact/hooks";
import {
  booleanIsCheckbox,
  enumOptions,
  type FileValue,
  type FormValue,
  fieldOptions,
  formatBytes,
  jsonProblem,
  type KeyValueRow,
  type ManifestInput,
} from "./model";

interface FieldProps {
  input: ManifestInput;
  value: FormValue;
  errors: string[] | undefined;
  onChange: (value: FormValue) => void;
  /** Prefixes its element ids and test ids (`trigger` → `trigger-field-…`, `trigger-input-…`), for a second form. */
  scope?: string;
}

const LONG_TEXT = new Set(["html", "amp", "text", "body"]);

function defaultText(input: ManifestInput): string | undefined {
  const d = input.default;
  if (d === null || d === undefined) return undefined;
  return typeof d === "string" ? d : JSON.stringify(d);
}

export function Field({ input, value, errors, onChange, scope }: FieldProps) {
  const ns = scope ? `${scope}-` : "";
  const id = `${ns}field-${input.key}`;
  const describedBy = `${id}-help${errors ? ` ${id}-error` : ""}`;
  const isGroup = input.type === "fields" && fieldOptions(input) !== undefined;
  const isRows = input.type === "key-value";
  const def = defaultText(input);
  const LabelTag = isGroup || isRows ? "span" : "label";
  return (
    <div class={`field field-${input.type}${errors ? " has-error" : ""}`}>
      <div class="field-head">
        <LabelTag class="field-label" {...(LabelTag === "label" ? { for: id } : { id: `${id}-label` })}>
          {input.label}
          {input.required && (
            <span class="required" title="required">
              <span aria-hidden="true">*</span>
              <span class="sr-only"> (required)</span>
            </span>
          )}
        </LabelTag>
        <code class="field-key">{input.key}</code>
        <span class="field-type">{input.type}</span>
        {def !== undefined && <span class="field-default">default: {def}</span>}
      </div>
      <Control
        input={input}
        value={value}
        onChange={onChange}
        id={id}
        describedBy={describedBy}
        testid={`${ns}input-${input.key}`}
      />
      {errors && (
        <div class="field-error" id={`${id}-error`} role="alert" data-testid={`${ns}error-${input.key}`}>
          {errors.join("; ")}
        </div>
      )}
      {input.comments && (
        <p class="field-help" id={`${id}-help`}>
          {input.comments}
        </p>
      )}
    </div>
  );
}

interface ControlProps {
  input: ManifestInput;
  value: FormValue;
  onChange: (value: FormValue) => void;
  id: string;
  describedBy: string;
  testid: string;
}

function Control(props: ControlProps) {
  const { input, value, onChange, id, describedBy, testid } = props;
  const common = {
    id,
    "data-testid": testid,
    "aria-describedby": describedBy,
    "aria-required": input.required,
  };
  const text = typeof value === "string" ? value : "";
  const placeholder = defaultText(input) ?? input.placeholder ?? "";
  switch (input.type) {
    case "number": {
      const integer = input.schema.type === "integer";
      return (
        <input
          {...common}
          type="number"
          step={integer ? 1 : "any"}
          min={input.schema.minimum}
          max={input.schema.maximum}
          value={text}
          placeholder={placeholder}
          onInput={(e) => onChange(e.currentTarget.value)}
        />
      );
    }
    case "boolean":
      if (booleanIsCheckbox(input))
        return (
          <label class="checkbox">
            <input
              {...common}
              type="checkbox"
              checked={value === true}
              onChange={(e) => onChange(e.currentTarget.checked)}
            />
            <span>{value === true ? "true" : "false"}</span>
          </label>
        );
      return (
        <select {...common} value={text} onChange={(e) => onChange(e.currentTarget.value)}>
          <option value="">(empty)</option>
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      );
    case "enum":
      return (
        <select {...common} value={text} onChange={(e) => onChange(e.currentTarget.value)}>
          {(!input.required || text === "") && (
            <option value="">{input.required ? "(choose)" : "(empty)"}</option>
          )}
          {enumOptions(input).map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      );
    case "json":
      return <JsonControl {...props} text={text} />;
    case "fields": {
      const options = fieldOptions(input);
      if (!options)
        return (
          <input
            {...common}
            type="text"
            value={text}
            placeholder={placeholder || "comma-separated names"}
            onInput={(e) => onChange(e.currentTarget.value)}
          />
        );
      const chosen = Array.isArray(value) ? (value as string[]) : [];
      return (
        <FieldsControl
          options={options}
          chosen={chosen}
          onChange={onChange}
          common={common}
          labelledBy={`${id}-label`}
        />
      );
    }
    case "key-value":
      return (
        <KeyValueControl
          input={input}
          rows={Array.isArray(value) ? (value as KeyValueRow[]) : []}
          onChange={onChange}
          common={common}
          labelledBy={`${id}-label`}
        />
      );
    case "binary":
      return (
        <BinaryControl
          file={value && typeof value === "object" && !Array.isArray(value) ? value : null}
          onChange={onChange}
          common={common}
        />
      );
    default:
      if (LONG_TEXT.has(input.key))
        return (
          <textarea
            {...common}
            class="code"
            rows={6}
            spellcheck={false}
            value={text}
            placeholder={placeholder}
            onInput={(e) => onChange(e.currentTarget.value)}
          />
        );
      return (
        <>
          <input
            {...common}
            type="text"
            value={text}
            placeholder={placeholder}
            autocomplete="off"
            spellcheck={false}
            {...(input.choices ? { list: `${id}-choices` } : {})}
            onInput={(e) => onChange(e.currentTarget.value)}
          />
          {input.choices && (
            <datalist id={`${id}-choices`} data-testid={`choices-${input.key}`}>
              {input.choices.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </datalist>
          )}
        </>
      );
  }
}

function JsonControl({ input, onChange, id, describedBy, testid, text }: ControlProps & { text: string }) {
  const problem = useMemo(() => jsonProblem(text), [text]);
  const lines = Math.min(18, Math.max(4, text.split("\n").length + 1));
  const expected =
    input.schema.type === "array"
      ? "a JSON array"
      : input.schema.type === "object"
        ? "a JSON object"
        : "JSON";
  return (
    <div class="json-editor">
      <textarea
        id={id}
        data-testid={testid}
        aria-describedby={`${describedBy} ${id}-json`}
        aria-required={input.required}
        aria-invalid={problem ? true : undefined}
        class={`code${problem ? " invalid" : ""}`}
        rows={lines}
        spellcheck={false}
        value={text}
        placeholder={expected}
        onInput={(e) => onChange(e.currentTarget.value)}
      />
      <div
        class={`json-status ${problem ? "bad" : text.trim() ? "ok" : "empty"}`}
        id={`${id}-json`}
        data-testid={`json-status-${input.key}`}
        aria-live="polite"
      >
        {problem
          ? `Line ${problem.line}, column ${problem.column}: ${problem.message}`
          : text.trim()
            ? "Valid JSON"
            : `Empty: ${expected}`}
      </div>
    </div>
  );
}

interface Common {
  id: string;
  "data-testid": string;
  "aria-describedby": string;
  "aria-required": boolean;
}

function FieldsControl(props: {
  options: string[];
  chosen: string[];
  onChange: (value: FormValue) => void;
  common: Common;
  labelledBy: string;
}) {
  const { options, chosen, onChange, common, labelledBy } = props;
  const set = new Set(chosen);
  const toggle = (name: string, on: boolean) =>
    onChange(options.filter((o) => (o === name ? on : set.has(o))));
  return (
    <fieldset class="fields-control" aria-labelledby={labelledBy} {...common}>
      <div class="fields-tools">
        <span class="muted">
          {chosen.length === 0 ? "none chosen: all of them" : `${chosen.length} chosen`}
        </span>
        {chosen.length > 0 && (
          <button type="button" class="link" onClick={() => onChange([])}>
            clear
          </button>
        )}
      </div>
      <div class="fields-options">
        {options.map((o) => (
          <label key={o} class={`chip${set.has(o) ? " on" : ""}`}>
            <input
              type="checkbox"
              value={o}
              checked={set.has(o)}
              onChange={(e) => toggle(o, e.currentTarget.checked)}
            />
            {o}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function KeyValueControl(props: {
  input: ManifestInput;
  rows: KeyValueRow[];
  onChange: (value: FormValue) => void;
  common: Common;
  labelledBy: string;
}) {
  const { input, rows, onChange, common, labelledBy } = props;
  const binary = input.files === true;
  const set = (i: number, patch: Partial<KeyValueRow>) =>
    onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const shown = rows.length > 0 ? rows : [];
  return (
    <fieldset class="kv-control" aria-labelledby={labelledBy} {...common}>
      {shown.map((row, i) => (
        <div class="kv-row" key={i}>
          <input
            type="text"
            aria-label={`${input.label} key ${i + 1}`}
            data-testid={`input-${input.key}-key-${i}`}
            placeholder="key"
            value={row.key}
            spellcheck={false}
            onInput={(e) => set(i, { key: e.currentTarget.value })}
          />
          <input
            type="text"
            aria-label={`${input.label} value ${i + 1}`}
            data-testid={`input-${input.key}-value-${i}`}
            placeholder={binary ? "base64, or pick a file" : "value"}
            value={row.value}
            spellcheck={false}
            onInput={(e) => set(i, { value: e.currentTarget.value })}
          />
          {binary && (
            <label class="button small file-pick">
              file…
              <input
                type="file"
                aria-label={`${input.label} file ${i + 1}`}
                onChange={async (e) => {
                  const file = e.currentTarget.files?.[0];
                  if (file) set(i, { value: (await readFile(file)).base64 });
                }}
              />
            </label>
          )}
          <button
            type="button"
            class="small"
            aria-label={`Remove row ${i + 1}`}
            data-testid={`input-${input.key}-remove-${i}`}
            onClick={() => onChange(rows.filter((_, j) => j !== i))}
          >
            ×
          </button>
        </div>
      ))}
      <button
        type="button"
        class="small"
        data-testid={`input-${input.key}-add`}
        onClick={() => onChange([...rows, { key: "", value: "" }])}
      >
        + Add {shown.length > 0 ? "another" : "a"} pair
      </button>
    </fieldset>
  );
}

/** A file's bytes as base64. */
function readFile(file: File): Promise<FileValue> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(reader.error ?? new Error("could not read the file"));
    reader.onload = () => {
      const dataUrl = String(reader.result);
      resolve({
        name: file.name,
        size: file.size,
        type: file.type,
        base64: dataUrl.slice(dataUrl.indexOf(",") + 1),
      });
    };
    reader.readAsDataURL(file);
  });
}

function BinaryControl(props: {
  file: FileValue | null;
  onChange: (value: FormValue) => void;
  common: Common;
}) {
  const { file, onChange, common } = props;
  const [problem, setProblem] = useState<string | undefined>();
  // A new file input after Remove, since a file input's choice cannot be cleared from script everywhere.
  const [generation, setGeneration] = useState(0);
  const isImage = file?.type.startsWith("image/") ?? false;
  return (
    <div class="binary-control">
      <input
        {...common}
        key={generation}
        type="file"
        onChange={async (e) => {
          const picked = e.currentTarget.files?.[0];
          setProblem(undefined);
          if (!picked) {
            onChange(null);
            return;
          }
          try {
            onChange(await readFile(picked));
          } catch (error) {
            setProblem(error instanceof Error ? error.message : String(error));
          }
        }}
      />
      {problem && <div class="field-error">{problem}</div>}
      {file && (
        <div class="file-info">
          {isImage && (
            <img
              class="preview"
              src={`data:${file.type};base64,${file.base64}`}
              alt={`Preview of ${file.name}`}
            />
          )}
          <span>
            {file.name} · {file.type || "unknown type"} · {formatBytes(file.size)}
          </span>
          <button
            type="button"
            class="small"
            onClick={() => {
              setGeneration((g) => g + 1);
              onChange(null);
            }}
          >
            Remove
          </button>
        </div>
      )}
    </div>
  );
}
