import { preparedOnce, type Db } from '../journal/database.js';

export type TargetType = 'agent' | 'group' | 'all';

/** A catalogue definition as the API shows it. */
export interface CatalogEntryDto {
  name: string;
  description: string;
  args: Record<string, unknown>;
  default_timeout: number;
  target_types: TargetType[];
  updated_at: string;
  updated_by: string;
  revision: number;
}

interface CatalogRow {
  name: string;
  description: string;
  args: string;
  default_timeout: number;
  target_types: string;
  updated_at: number;
  updated_seq: number;
  updated_by: string;
}

function prepare(db: Db) {
  return {
    find: db.prepare<[string], CatalogRow>('SELECT * FROM catalog WHERE name = ?'),
    all: db.prepare<[], CatalogRow>('SELECT * FROM catalog ORDER BY name'),
  };
}
const stmts = preparedOnce(prepare);

function toDto(r: CatalogRow): CatalogEntryDto {
  return {
    name: r.name,
    description: r.description,
    args: JSON.parse(r.args) as Record<string, unknown>,
    default_timeout: r.default_timeout,
    target_types: JSON.parse(r.target_types) as TargetType[],
    updated_at: new Date(r.updated_at).toISOString(),
    updated_by: r.updated_by,
    revision: r.updated_seq,
  };
}

export function findCatalogEntry(db: Db, name: string): CatalogEntryDto | undefined {
  const row = stmts(db).find.get(name);
  return row ? toDto(row) : undefined;
}

export function listCatalog(db: Db): CatalogEntryDto[] {
  return stmts(db).all.all().map(toDto);
}
