// Reading request headers the same way in every server of the project.

/** One header's value (the first if repeated), bounded in length; undefined when absent or empty. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  const single = Array.isArray(value) ? value[0] : value;
  return single === undefined || single === "" ? undefined : single.slice(0, 256);
}
