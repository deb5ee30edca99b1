import type { ComponentChildren } from 'preact';

export interface FieldIds {
  /** the control's id (the label points at it) */
  id: string;
  /** the ids the control's aria-describedby should name */
  describedBy: string | undefined;
  invalid: boolean;
}

export function fieldIds(form: string, name: string, hasHelp: boolean, error: string | undefined): FieldIds {
  const id = `${form}-${name}`;
  const parts = [error !== undefined ? `${id}-error` : undefined, hasHelp ? `${id}-help` : undefined].filter((p) => p !== undefined);
  return { id, describedBy: parts.length > 0 ? parts.join(' ') : undefined, invalid: error !== undefined };
}

/**
 * A labelled control with its help and its error. The error sits right under the label, where it
 * is read first, and the control names it in aria-describedby.
 */
export function Field(props: {
  ids: FieldIds;
  label: string;
  name: string;
  help?: string | undefined;
  error?: string | undefined;
  /** a group of controls (the editors) gets a fieldset-like group instead of a <label for> */
  group?: boolean;
  children: ComponentChildren;
}) {
  const { ids, label, help, error, name } = props;
  return (
    <div class={`field${error !== undefined ? ' field-invalid' : ''}`} data-field={name}>
      {props.group ? (
        <p class="field-label" id={`${ids.id}-label`}>
          {label}
        </p>
      ) : (
        <label class="field-label" for={ids.id}>
          {label}
        </label>
      )}
      {error !== undefined && (
        <p class="field-error" id={`${ids.id}-error`} role="alert">
          {error}
        </p>
      )}
      {props.children}
      {help && (
        <p class="field-help" id={`${ids.id}-help`}>
          {help}
        </p>
      )}
    </div>
  );
}
