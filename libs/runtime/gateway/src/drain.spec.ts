import { drain } from './run-gateway';

describe('drain', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('waits for close, closing idle connections meanwhile, and cuts the rest after the timeout', async () => {
    let finish: () => void = () => undefined;
    const closing = new Promise<void>((resolve) => (finish = resolve));
    const closeIdle = jest.fn();
    const closeAll = jest.fn(() => finish());
    const drained = drain(() => closing, { closeIdle, closeAll, timeoutMs: 1_000 });
    jest.advanceTimersByTime(999);
    expect(closeIdle).toHaveBeenCalled();
    expect(closeAll).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(closeAll).toHaveBeenCalledTimes(1);
    await drained;
  });

  it('cuts nothing when in-flight requests finish in time', async () => {
    const closeAll = jest.fn();
    await drain(async () => undefined, { closeIdle: () => undefined, closeAll, timeoutMs: 1_000 });
    jest.advanceTimersByTime(5_000);
    expect(closeAll).not.toHaveBeenCalled();
  });
});
