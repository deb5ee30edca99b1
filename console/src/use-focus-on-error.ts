import { useLayoutEffect, useState } from 'preact/hooks';

/**
 * Focus the first field the API named after a refused save (or the banner at the top). Call the
 * function it returns once the errors are set: the focus moves right after the render that shows
 * them (a layout effect), not a frame later, when the user may have moved on.
 */
export function useFocusOnError(form: { current: HTMLFormElement | null }): () => void {
  const [round, setRound] = useState(0);
  useLayoutEffect(() => {
    if (round === 0) return;
    const target = form.current?.querySelector<HTMLElement>('.field-invalid input, .field-invalid select, .banner-error');
    if (target) {
      if (!target.matches('input, select')) target.tabIndex = -1;
      target.focus();
    }
  }, [round]);
  return () => setRound((n) => n + 1);
}
