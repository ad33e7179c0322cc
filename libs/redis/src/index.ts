export { RedisAdapter, RedisConnection, type RedisConnectionOptions } from './redis-connection';
export { type RedisScript, redisScript, runScript } from './redis-script';
