import pg from 'pg';

/**
 * A fresh PostgreSQL database per test run, named after the run; the e2e suites read its URL
 * from TEST_DATABASE_URL. Point TEST_PG_URL elsewhere to use another server.
 */
export default async function globalSetup() {
  const admin = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `idp_test_${Date.now()}_${process.pid}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  process.env.TEST_DATABASE_URL = url.toString();
  process.env.TEST_DATABASE_NAME = name;
}
