import { useLayoutEffect, useRef } from 'preact/hooks';
import type { HeaderRow } from '../providers/tech-header-rows.ts';
import type { FieldIds } from './field.tsx';

/** Tech headers as editable name/value rows. */
export function HeadersEditor({ ids, value, onChange }: { ids: FieldIds; value: HeaderRow[]; onChange: (next: HeaderRow[]) => void }) {
  const table = useRef<HTMLDivElement>(null);
  const focusLast = useRef(false);
  useLayoutEffect(() => {
    if (!focusLast.current) return;
    focusLast.current = false;
    const names = table.current?.querySelectorAll<HTMLInputElement>('input.header-name');
    names?.[names.length - 1]?.focus();
  });
  const update = (i: number, patch: Partial<HeaderRow>) => onChange(value.map((row, j) => (j === i ? { ...row, ...patch } : row)));

  return (
    <div class="headers-editor" ref={table} role="group" aria-labelledby={`${ids.id}-label`} aria-describedby={ids.describedBy}>
      {value.length === 0 ? (
        <p class="editor-empty">No tech headers.</p>
      ) : (
        <div class="header-rows">
          {value.map((row, i) => (
            <div class="header-row" key={i}>
              <input
                class="header-name mono"
                id={i === 0 ? ids.id : undefined}
                value={row.name}
                placeholder="X-Header-Name"
                aria-label={`Header ${i + 1} name`}
                aria-invalid={ids.invalid}
                autocomplete="off"
                spellcheck={false}
                onInput={(e) => update(i, { name: e.currentTarget.value })}
              />
              <span class="header-colon" aria-hidden="true">
                :
              </span>
              <input
                class="header-value mono"
                value={row.value}
                placeholder="value"
                aria-label={`Header ${i + 1} value`}
                aria-invalid={ids.invalid}
                autocomplete="off"
                spellcheck={false}
                onInput={(e) => update(i, { value: e.currentTarget.value })}
              />
              <button type="button" class="icon danger" aria-label={`Remove header ${row.name || i + 1}`} onClick={() => onChange(value.filter((_, j) => j !== i))}>
                ×
              </button>
            </div>
          ))}
        </div>
      )}
      <button
        type="button"
        onClick={() => {
          focusLast.current = true;
          onChange([...value, { name: '', value: '' }]);
        }}
      >
        Add header
      </button>
    </div>
  );
}
