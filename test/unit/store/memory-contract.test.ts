import { createMemoryStores } from '../../../src/store/memory.js';
import { storeContract } from './contract.js';

storeContract('embedded (memory)', async () => createMemoryStores());
