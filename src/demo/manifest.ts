/** What the demo server tells the page about the packed models it serves (`/models.json`), and the page's constants. */

/** Monte-Carlo samples and seed of the page's Bayesian predictions (a test recomputes them in Node). */
export const MC_SAMPLES = 20;
export const MC_SEED = 1;

export interface DemoModelEntry {
  /** Stable id; the file is served at `url`. */
  id: string;
  /** "<run>/<variant>" (from the file's metadata, else its folder and name). */
  label: string;
  url: string;
  /** Where the file is, relative to the repository when inside it. */
  file: string;
  /** Download size: the packed file's bytes. */
  bytes: number;
  /** Bytes of the file's optional σ section (0 without one). */
  sigmaBytes: number;
  headerBytes: number;
  /** The same stored tensors in float32 (4 bytes per stored value), for comparison. */
  float32Bytes: number;
  kind: 'float' | 'quantized' | 'bayesian';
  /** Bayesian model whose file holds σ (Monte-Carlo prediction possible). */
  hasSigma: boolean;
  /** The header's metadata (experiment, variant, input, accuracy, ...), if the file has any. */
  metadata: Record<string, unknown> | null;
}

export interface DemoManifest {
  models: DemoModelEntry[];
  /** Folders that were searched. */
  searched: string[];
  /** Files that could not be read, with why. */
  skipped: { file: string; error: string }[];
}

/** The MNIST sample the page shows (`/mnist-sample.json`). */
export interface MnistSample {
  source: string;
  height: number;
  width: number;
  /** Indices in the test set. */
  indices: number[];
  labels: number[];
  /** count*height*width bytes, base64. */
  pixels: string;
}

/** One model's answer on the page (window.qnnlabDemo.result.predictions). */
export interface ModelPrediction {
  id: string;
  label: string;
  logits: number[];
  probs: number[];
  predicted: number;
  mc?: { samples: number; seed: number; probs: number[]; entropy: number; expectedEntropy: number; mutualInformation: number; predicted: number };
  /** Why there is no Monte-Carlo prediction (Bayesian models without σ). */
  mcNote?: string;
}

/** The page's last classification (window.qnnlabDemo.result). */
export interface DemoResult {
  seq: number;
  input: { source: 'test' | 'drawn'; sample?: number; testIndex?: number; label?: number; pixels: number[] };
  predictions: ModelPrediction[];
  ms: number;
}

