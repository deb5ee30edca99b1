/**
 * The drachtio-srf applications connected to the edge, and which SIP methods each has routed.
 * A request for a routed method goes to the next application in round robin order.
 */
import { EventEmitter } from 'node:events';

export interface AppConnection {
  /** stable id for logs and dialog ownership, e.g. `app-3` */
  readonly id: string;
  readonly remote: string;
  readonly closed: boolean;
  /** the srf tags given at authentication (comma-separated, '' for none) */
  readonly tags: string;
  /**
   * Frames and writes one wire payload; a no-op once the connection is closed. `afterTurn`: an
   * in-dialog request for srf, which an in-process link hands over one event-loop turn after
   * what it delivered before (docs/edge.md §4.3); a TCP connection ignores it.
   */
  send(payload: string, afterTurn?: boolean): void;
  /**
   * True for an in-process link, which orders a dialog's deliveries itself (afterTurn); a TCP
   * app gets them behind the 2xx echo by time (docs/edge.md §4.3).
   */
  readonly ordersDeliveries?: boolean;
}

export class AppRegistry extends EventEmitter<{ 'app-gone': [app: AppConnection] }> {
  private readonly apps = new Map<string, AppConnection>();
  /** method (lower-case, as srf sends it) → apps in the order they routed it */
  private readonly routes = new Map<string, AppConnection[]>();
  private readonly nextIndex = new Map<string, number>();

  add(app: AppConnection): void {
    this.apps.set(app.id, app);
  }

  get(id: string): AppConnection | undefined {
    return this.apps.get(id);
  }

  list(): AppConnection[] {
    return [...this.apps.values()];
  }

  addRoute(app: AppConnection, method: string): void {
    const key = method.toLowerCase();
    const list = this.routes.get(key) ?? [];
    if (!list.includes(app)) list.push(app);
    this.routes.set(key, list);
  }

  removeRoute(app: AppConnection, method: string): void {
    const key = method.toLowerCase();
    const list = (this.routes.get(key) ?? []).filter((a) => a !== app);
    if (list.length === 0) this.routes.delete(key);
    else this.routes.set(key, list);
  }

  routedMethods(app: AppConnection): string[] {
    return [...this.routes.entries()].filter(([, list]) => list.includes(app)).map(([m]) => m);
  }

  /** The application that gets the next out-of-dialog request of this method, if any routed it. */
  pick(method: string): AppConnection | undefined {
    const key = method.toLowerCase();
    const list = (this.routes.get(key) ?? []).filter((a) => !a.closed);
    if (list.length === 0) return undefined;
    const i = (this.nextIndex.get(key) ?? 0) % list.length;
    this.nextIndex.set(key, i + 1);
    return list[i];
  }

  /** The application is gone: its routes go at once, then listeners tear down its dialogs. */
  remove(app: AppConnection): void {
    if (!this.apps.delete(app.id)) return;
    for (const method of this.routedMethods(app)) this.removeRoute(app, method);
    this.emit('app-gone', app);
  }
}
