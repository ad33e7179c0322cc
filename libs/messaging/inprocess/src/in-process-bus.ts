/** What the bus needs from a server: whether it handles a route, and delivery of serialised packets. */
export interface BusMember {
  handles(route: string): boolean;
  /** `json` is a serialised request packet; `reply` takes serialised response packets. */
  deliverRequest(route: string, json: string, reply: (json: string) => void): void;
  deliverEvent(route: string, json: string): void;
}

/**
 * The message bus of one InProcessTransport: queue groups of servers. Like NATS, a message goes to one member
 * of every group that handles its route; within a group the members take turns (round robin per route).
 */
export class InProcessBus {
  private readonly groups = new Map<string, BusMember[]>();
  private readonly turns = new Map<string, number>();

  join(queue: string, member: BusMember): void {
    const members = this.groups.get(queue) ?? [];
    if (!members.includes(member)) members.push(member);
    this.groups.set(queue, members);
  }

  leave(queue: string, member: BusMember): void {
    const members = this.groups.get(queue)?.filter((m) => m !== member) ?? [];
    if (members.length > 0) {
      this.groups.set(queue, members);
      return;
    }
    this.groups.delete(queue);
    for (const key of this.turns.keys()) if (key.startsWith(`${queue}\u0000`)) this.turns.delete(key);
  }

  /** The members that should receive a message for `route`: one per queue group that handles it. */
  pick(route: string): BusMember[] {
    const chosen: BusMember[] = [];
    for (const [queue, members] of this.groups) {
      const able = members.filter((m) => m.handles(route));
      if (able.length === 0) continue;
      const key = `${queue}\u0000${route}`;
      const turn = this.turns.get(key) ?? 0;
      this.turns.set(key, turn + 1);
      chosen.push(able[turn % able.length]);
    }
    return chosen;
  }
}
