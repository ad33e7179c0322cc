import { BaseRpcContext } from '@nestjs/microservices';

/** The `@Ctx()` of an in-process message: the pattern (route) it was sent to. */
export class InProcessContext extends BaseRpcContext<[string]> {
  getPattern(): string {
    return this.args[0];
  }
}
