import { runMain, runService } from '@ocireg/runtime';

void runMain('distributed', (config) => runService('upload-service', config));
