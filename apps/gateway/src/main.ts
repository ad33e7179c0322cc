import { runGateway, runMain } from '@ocireg/runtime';

void runMain('distributed', runGateway);
