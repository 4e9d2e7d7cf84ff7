import { preparedOnce, type Db } from '../journal/database.js';

export interface PackageInfo {
  name: string;
  size: number;
  sha256: string;
  uploaded_at: string;
  uploaded_by: string;
}

interface PackageRow {
  name: string;
  size: number;
  sha256: string;
  uploaded_at: number;
  uploaded_by: string;
}

function prepare(db: Db) {
  return {
    find: db.prepare<[string], PackageRow>('SELECT name, size, sha256, uploaded_at, uploaded_by FROM packages WHERE name = ?'),
    all: db.prepare<[], PackageRow>('SELECT name, size, sha256, uploaded_at, uploaded_by FROM packages ORDER BY name'),
    bySha: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM packages WHERE sha256 = ?'),
  };
}
const stmts = preparedOnce(prepare);

const toInfo = (r: PackageRow): PackageInfo => ({ ...r, uploaded_at: new Date(r.uploaded_at).toISOString() });

export function findPackage(db: Db, name: string): PackageInfo | undefined {
  const row = stmts(db).find.get(name);
  return row && toInfo(row);
}

export function listPackages(db: Db): PackageInfo[] {
  return stmts(db).all.all().map(toInfo);
}

/** Whether any package name points at this content. */
export function packageContentInUse(db: Db, sha256: string): boolean {
  return (stmts(db).bySha.get(sha256)?.n ?? 0) > 0;
}
