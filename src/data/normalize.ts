/** Pixel normalization as a lookup table: 256 floats per channel, so a batch costs one table read per byte. */

export type NormalizeMode = 'meanstd' | 'unit' | 'none';

/**
 * table[c*256 + v] = the float fed to the model for byte v in channel c:
 *   none    -> v
 *   unit    -> v/255
 *   meanstd -> (v/255 - mean[c]) / std[c]
 */
export function normalizationTable(mode: NormalizeMode, mean: number[], std: number[], channels: number): Float32Array {
  if (mode !== 'none' && mode !== 'unit' && mode !== 'meanstd') {
    throw new Error(`normalize must be 'unit', 'meanstd' or 'none', got '${String(mode)}'`);
  }
  if (mode === 'meanstd' && (mean.length !== channels || std.length !== channels)) {
    throw new Error(`meanstd normalization needs ${channels} means and stds, got ${mean.length} and ${std.length}`);
  }
  const table = new Float32Array(channels * 256);
  for (let c = 0; c < channels; c++) {
    for (let v = 0; v < 256; v++) {
      if (mode === 'none') table[c * 256 + v] = v;
      else if (mode === 'unit') table[c * 256 + v] = v / 255;
      // A zero std (a constant channel) would give Infinity; treat it as 1 so the channel is just centred.
      else table[c * 256 + v] = (v / 255 - mean[c]) / (std[c] > 0 ? std[c] : 1);
    }
  }
  return table;
}
