import { runMain } from '@ocireg/runtime';
import { runService } from '@ocireg/runtime-services';

void runMain('distributed', (config) => runService('blob-service', config));
