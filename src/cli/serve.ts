import type { Server } from 'node:http';
import type { Config } from '../config/config.ts';
import { createService } from '../service.ts';
import { close, createHttpServer, listen } from '../http/node-server.ts';
import { writePidFile } from './pid-file.ts';
import { createMetricsServer } from '../http/metrics-server.ts';

export class ServeError extends Error {
  override name = 'ServeError';
}

/** Runs the server until SIGINT/SIGTERM, then drains delivery and closes the store. */
export async function serve(config: Config): Promise<void> {
  const service = await createService(config);
  const { logger } = service;
  if (config.dev) {
    logger.warn(
      'DEV MODE: callbacks may target http:// and private or loopback addresses. ' +
        'Never run --dev where untrusted clients can create channels.',
    );
  }
  const server = createHttpServer({
    fetch: service.app.fetch,
    limits: config.http,
    errorBody: service.errorBody,
  });
  try {
    await listen(server, config.port, config.host);
  } catch (err) {
    await service.stop();
    const code = (err as { code?: string }).code;
    throw new ServeError(
      code === 'EADDRINUSE'
        ? `port ${config.port} on ${config.host} is already in use (choose another with --port)`
        : `cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`,
    );
  }
  let metricsServer: Server | undefined;
  try {
    metricsServer = await listenForMetrics(config, service.metrics);
  } catch (err) {
    await close(server);
    await service.stop();
    throw err;
  }
  await service.start();
  const removePidFile = writePidFile(config.dataDir);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info(
    { url: `http://${config.host}:${port}`, store: service.store.location, node: process.version },
    'calpush listening',
  );
  // A line tests and scripts can wait for, whatever the log level.
  process.stdout.write(`calpush listening on http://${config.host}:${port}\n`);

  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
  await close(server);
  if (metricsServer) await close(metricsServer);
  await service.stop();
  removePidFile();
}

/** The metrics listener of its own, when `CALPUSH_METRICS_PORT` asks for one. */
async function listenForMetrics(
  config: Config,
  metrics: Parameters<typeof createMetricsServer>[0],
): Promise<Server | undefined> {
  const { port, host } = config.metrics;
  if (port === undefined) return undefined;
  const server = createMetricsServer(metrics);
  try {
    await listen(server, port, host);
  } catch (err) {
    throw new ServeError(`cannot serve metrics on ${host}:${port}: ${(err as Error).message}`);
  }
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  process.stdout.write(`calpush metrics on http://${host}:${bound}/metrics\n`);
  return server;
}
