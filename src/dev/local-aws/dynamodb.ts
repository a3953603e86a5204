/**
 * A minimal DynamoDB (JSON protocol 1.0, `X-Amz-Target: DynamoDB_20120810.<Operation>`): DescribeTable,
 * GetItem and PutItem on tables seeded from the state file, authorized with the caller's policies like every
 * other emulated call. Enough for the dynamodb-read-table template and a JSON-protocol service behind the
 * gateway; items are stored in DynamoDB's own attribute-value JSON.
 */
import type { ServerResponse } from 'node:http';
import { AwsError } from './aws-error';

export type AttributeValue = Record<string, unknown>;
export type Item = Record<string, AttributeValue>;

export interface Table {
  name: string;
  /** Partition key attribute name (string keys only). */
  key: string;
  items: Map<string, Item>;
  createdAt: Date;
}

export interface DynamoCall {
  target: string | undefined;
  body: Buffer;
  requestId: string;
  accountId: string;
  region: string;
  tables: Map<string, Table>;
  /** The IAM decision for the caller; throws AccessDeniedException unless Allow. */
  authorize(action: string, resource: string): 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
  principalArn: string;
}

const PREFIX = 'DynamoDB_20120810.';

/** Writes a JSON 1.0 error as DynamoDB does: `__type` with the shape namespace, and `message`. */
export function writeDynamoError(res: ServerResponse, err: AwsError, requestId: string): void {
  const code = err.code === 'AccessDenied' ? 'AccessDeniedException' : err.code;
  const body = JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${code}`, message: err.message });
  res.writeHead(err.status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function keyOf(table: Table, key: unknown): string {
  const attr = (key as Item | undefined)?.[table.key];
  if (!attr || typeof attr.S !== 'string') throw new AwsError(400, 'ValidationException', 'The provided key element does not match the schema');
  return attr.S;
}

export function serveDynamo(res: ServerResponse, call: DynamoCall): void {
  try {
    const op = call.target?.startsWith(PREFIX) ? call.target.slice(PREFIX.length) : undefined;
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(call.body.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      throw new AwsError(400, 'SerializationException', 'Start of structure or map found where not expected');
    }
    const name = typeof input.TableName === 'string' ? input.TableName : '';
    const arn = `arn:aws:dynamodb:${call.region}:${call.accountId}:table/${name}`;
    if (op !== 'DescribeTable' && op !== 'GetItem' && op !== 'PutItem') throw new AwsError(400, 'UnknownOperationException', `The emulator does not serve DynamoDB ${op ?? '(no X-Amz-Target)'}`);
    const decision = call.authorize(`dynamodb:${op}`, arn);
    if (decision !== 'Allow') throw new AwsError(400, 'AccessDeniedException', `User: ${call.principalArn} is not authorized to perform: dynamodb:${op} on resource: ${arn}`);
    const table = call.tables.get(name);
    if (!table) throw new AwsError(400, 'ResourceNotFoundException', 'Requested resource not found');
    let out: unknown;
    if (op === 'DescribeTable') {
      out = {
        Table: {
          TableName: table.name,
          TableArn: arn,
          TableStatus: 'ACTIVE',
          KeySchema: [{ AttributeName: table.key, KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: table.key, AttributeType: 'S' }],
          ItemCount: table.items.size,
          CreationDateTime: table.createdAt.getTime() / 1000,
        },
      };
    } else if (op === 'GetItem') {
      const item = table.items.get(keyOf(table, input.Key));
      out = item ? { Item: item } : {};
    } else {
      const item = input.Item as Item | undefined;
      table.items.set(keyOf(table, item), item!);
      out = {};
    }
    const body = JSON.stringify(out);
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': call.requestId, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  } catch (err) {
    if (!(err instanceof AwsError)) throw err;
    writeDynamoError(res, err, call.requestId);
  }
}

/** Tables of a state file: `tables: [{name, key, items: [{<attr>: {S: ...}}]}]`. */
export function seedTables(seed: Array<{ name: string; key: string; items?: Item[] }> | undefined, now: Date): Map<string, Table> {
  const tables = new Map<string, Table>();
  for (const t of seed ?? []) {
    const table: Table = { name: t.name, key: t.key, items: new Map(), createdAt: now };
    for (const item of t.items ?? []) table.items.set(keyOf(table, item), item);
    tables.set(t.name, table);
  }
  return tables;
}
