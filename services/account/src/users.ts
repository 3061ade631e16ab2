import type { Sql } from '@marquee/service-kit';
import type { Role } from '@marquee/service-kit';

export interface UserRow {
  id: string;
  username: string;
  role: Role;
  password_hash: string;
  created_at: Date;
}

export interface PublicUser {
  id: string;
  username: string;
  role: Role;
  createdAt: string;
}

export const publicUser = (u: Pick<UserRow, 'id' | 'username' | 'role' | 'created_at'>): PublicUser => ({
  id: u.id,
  username: u.username,
  role: u.role,
  createdAt: u.created_at.toISOString(),
});

/** Inserts unless the name is taken in any letter case; returns null when it is. */
export async function insertUser(sql: Sql, username: string, role: Role, passwordHash: string): Promise<UserRow | null> {
  const rows = await sql<UserRow[]>`
    insert into users (username, role, password_hash)
    values (${username}, ${role}, ${passwordHash})
    on conflict ((lower(username))) do nothing
    returning *`;
  return rows[0] ?? null;
}

export async function findUserByName(sql: Sql, username: string): Promise<UserRow | undefined> {
  const rows = await sql<UserRow[]>`select * from users where lower(username) = lower(${username})`;
  return rows[0];
}

export async function findUserById(sql: Sql, id: string): Promise<UserRow | undefined> {
  const rows = await sql<UserRow[]>`select * from users where id = ${id}`;
  return rows[0];
}
