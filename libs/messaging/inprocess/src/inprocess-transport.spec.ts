import { describeTransportContract } from '@ocireg/messaging-testsuite';
import { InProcessTransport } from './inprocess-transport';

describeTransportContract('in-process', async () => ({ transport: new InProcessTransport(), teardown: async () => undefined }));
