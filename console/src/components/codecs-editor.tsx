import { useRef, useState } from 'preact/hooks';
import { COMMON_CODECS } from '../providers/codec-list.ts';
import type { FieldIds } from './field.tsx';

/**
 * The provider's codec list, in order: add (type or pick, Enter or Add; a comma list adds several),
 * move up/down, remove. Text left in the box is added when the box loses focus, so nothing typed
 * is lost on Save.
 */
export function CodecsEditor({ ids, value, onChange }: { ids: FieldIds; value: string[]; onChange: (next: string[]) => void }) {
  const [pending, setPending] = useState('');
  const input = useRef<HTMLInputElement>(null);

  const add = (text: string) => {
    const names = text.split(',').map((c) => c.trim()).filter((c) => c !== '');
    if (names.length === 0) return;
    const lower = new Set(value.map((c) => c.toLowerCase()));
    onChange([...value, ...names.filter((c) => !lower.has(c.toLowerCase()))]);
    setPending('');
  };
  const move = (i: number, by: -1 | 1) => {
    const next = [...value];
    const [item] = next.splice(i, 1);
    next.splice(i + by, 0, item!);
    onChange(next);
  };
  const offered = COMMON_CODECS.filter((c) => !value.some((v) => v.toLowerCase() === c.toLowerCase()));

  return (
    <div class="codecs-editor">
      {value.length === 0 ? (
        <p class="editor-empty">No restriction: the SDP offer is passed unchanged.</p>
      ) : (
        <ol class="codec-list" aria-label="Codecs in order of preference">
          {value.map((codec, i) => (
            <li class="codec" key={codec}>
              <span class="codec-rank">{i + 1}</span>
              <span class="codec-name">{codec}</span>
              <button type="button" class="icon" aria-label={`Move ${codec} up`} disabled={i === 0} onClick={() => move(i, -1)}>
                ↑
              </button>
              <button type="button" class="icon" aria-label={`Move ${codec} down`} disabled={i === value.length - 1} onClick={() => move(i, 1)}>
                ↓
              </button>
              <button type="button" class="icon danger" aria-label={`Remove ${codec}`} onClick={() => onChange(value.filter((_, j) => j !== i))}>
                ×
              </button>
            </li>
          ))}
        </ol>
      )}
      <div class="editor-add">
        <input
          ref={input}
          id={ids.id}
          class="mono"
          list={`${ids.id}-choices`}
          value={pending}
          placeholder="add a codec, e.g. PCMA"
          aria-describedby={ids.describedBy}
          aria-invalid={ids.invalid}
          autocomplete="off"
          onInput={(e) => setPending(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              add(pending);
            }
          }}
          onBlur={() => add(pending)}
        />
        <datalist id={`${ids.id}-choices`}>
          {offered.map((c) => (
            <option key={c} value={c} />
          ))}
        </datalist>
        <button
          type="button"
          onClick={() => {
            add(pending);
            input.current?.focus();
          }}
        >
          Add codec
        </button>
      </div>
    </div>
  );
}
