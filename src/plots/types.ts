/** One row of a results table or training history: column name -> value (missing cells allowed). */
export type Row = Record<string, number | string | null | undefined>;
