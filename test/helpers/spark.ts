import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { toolchainPaths, VERSIONS } from '../../core/toolchain';

/** spark-submit and the jars are in the toolchain cache (`ddb-lake setup`): Spark tests can run. */
export function haveSparkToolchain(): boolean {
  const paths = toolchainPaths();
  return existsSync(paths.sparkSubmit) && paths.jars.every((j) => existsSync(j));
}

/**
 * Runs a PySpark script with spark-submit from the cache venv and the cache's jars (Hudi 0.15
 * bundle, hadoop-aws, AWS SDK bundle): Spark 3.5 at local[2], 1 GiB driver, as the tests may.
 * Resolves to the script's stdout; rejects with the end of its log on failure.
 */
export function sparkSubmit(script: string, args: string[], timeoutMs = 300_000): Promise<string> {
  const paths = toolchainPaths();
  const sparkHome = join(paths.venv, 'lib', `python${VERSIONS.python}`, 'site-packages', 'pyspark');
  return new Promise((resolve, reject) => {
    const child = spawn(
      paths.sparkSubmit,
      [
        '--master',
        'local[2]',
        '--driver-memory',
        '1g',
        '--conf',
        'spark.ui.enabled=false',
        '--jars',
        paths.jars.join(','),
        script,
        ...args,
      ],
      {
        env: {
          ...process.env,
          SPARK_HOME: sparkHome,
          PYSPARK_PYTHON: paths.python,
          PYSPARK_DRIVER_PYTHON: paths.python,
          SPARK_LOCAL_IP: '127.0.0.1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`spark-submit ${script} exited with ${code}:\n${stderr.slice(-4000)}`));
    });
  });
}
