// Generic Mesos name rules (common/validation.cpp): IDs and role names.
/* eslint-disable no-control-regex -- control characters are exactly what is rejected */

/** Returns an error text or undefined for task, executor, framework and persistence IDs. */
export function validateId(id: string): string | undefined {
  if (id.length === 0) return "ID must not be empty";
  if (Buffer.byteLength(id) > 255) return "ID must not be greater than 255 characters";
  if (id === "." || id === "..") return "'.' and '..' are disallowed";
  if (/[\x00-\x1f\x7f]/.test(id)) return "ID must not contain control characters";
  if (/[/\\]/.test(id)) return `'${id}' contains invalid characters`;
  return undefined;
}

/** Returns an error text or undefined for a role name. */
export function validateRole(role: string): string | undefined {
  if (role === "*") return undefined;
  if (role.length === 0) return "Empty role name is invalid";
  if (role.startsWith("/")) return `Role '${role}' cannot start with a slash`;
  if (role.endsWith("/")) return `Role '${role}' cannot end with a slash`;
  if (/[\s\x00-\x1f\x7f]/.test(role))
    return `Role '${role}' cannot contain whitespace or control characters`;
  for (const part of role.split("/")) {
    if (part === "") return `Role '${role}' cannot contain empty path components`;
    if (part === "." || part === "..")
      return `Role '${role}' cannot contain '.' or '..' as a path component`;
    if (part === "*") return `Role '${role}' cannot contain '*' as a path component`;
    if (part.startsWith("-"))
      return `Role '${role}' cannot have a path component starting with '-'`;
  }
  return undefined;
}
