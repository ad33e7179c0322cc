import { runMain } from '@ocireg/runtime';
import { runGateway } from '@ocireg/runtime-gateway';

void runMain('distributed', runGateway);
