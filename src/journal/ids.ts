import { z } from 'zod';

/** Branded identifiers: no bare strings between layers (journal positions are plain `seq` numbers). */
export const AgentId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'letters, digits, ".", "_", ":" or "-", at most 64')
  .brand<'AgentId'>();
export type AgentId = z.infer<typeof AgentId>;
export const CommandId = z.string().min(1).max(64).brand<'CommandId'>();
export type CommandId = z.infer<typeof CommandId>;
export const UserName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'letters, digits, ".", "_", "@" or "-", at most 64')
  .brand<'UserName'>();
export type UserName = z.infer<typeof UserName>;
export const GroupName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" or "-", at most 64')
  .brand<'GroupName'>();
export type GroupName = z.infer<typeof GroupName>;

export const asAgentId = (s: string): AgentId => s as AgentId;
export const asCommandId = (s: string): CommandId => s as CommandId;
