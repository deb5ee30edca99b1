import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Capabilities } from './api/capabilities.ts';

export interface ConsoleContext {
  capabilities: Capabilities;
  /** a short confirmation in the status area ("Provider saved") */
  notify(text: string): void;
  /** the user name logged in with (kept for the session); undefined when the console does not know it */
  username: string | undefined;
}

export const ConsoleContextValue = createContext<ConsoleContext | undefined>(undefined);

export function useConsole(): ConsoleContext {
  const value = useContext(ConsoleContextValue);
  if (!value) throw new Error('useConsole outside the console');
  return value;
}
