import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blasKind, torchThreadEnv } from '../src/cli/bench';

test('the thread count reaches every pool PyTorch may start: OpenMP, OpenBLAS, MKL', () => {
  assert.deepEqual(torchThreadEnv(2), { OMP_NUM_THREADS: '2', OPENBLAS_NUM_THREADS: '2', MKL_NUM_THREADS: '2' });
});

test("blasKind tells Debian's reference BLAS from OpenBLAS by the libraries a process mapped", () => {
  assert.equal(blasKind(['/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0']), 'reference');
  assert.equal(blasKind(['/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3', '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so']), 'openblas');
  assert.equal(blasKind(['/opt/intel/mkl/lib/libmkl_rt.so']), 'mkl');
  assert.equal(blasKind([]), 'unknown');
});
