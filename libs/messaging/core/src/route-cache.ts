/**
 * The routes of incoming message patterns, remembered. Nest resolves the route of every incoming message
 * with a JSON.parse of its pattern, which throws (building an error and its stack) for the plain string
 * patterns every handler here uses: a few percent of a small request's CPU. A pattern's route never changes.
 */
export class RouteCache {
  private readonly routes = new Map<string, string>();

  /** `max` bounds the memory a stream of unknown patterns could take; beyond it routes are computed each time. */
  constructor(private readonly max = 1024) {}

  resolve(pattern: string, compute: (pattern: string) => string): string {
    let route = this.routes.get(pattern);
    if (route === undefined) {
      route = compute(pattern);
      if (this.routes.size < this.max) this.routes.set(pattern, route);
    }
    return route;
  }
}
