import { runMain, runService } from '@ocireg/runtime';

void runMain('distributed', (config) => runService('manifest-service', config));
