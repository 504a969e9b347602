// Every kernel an engine records with, built once per engine; pipelines are shared per device (kernel.ts).
import { ActGradKernel } from './act-grad-kernel.ts'
import { AddKernel } from './add-kernel.ts'
import { BiasActKernel } from './bias-act-kernel.ts'
import { Col2imKernel } from './col2im-kernel.ts'
import { ColSumsKernel } from './col-sums-kernel.ts'
import { Im2colKernel } from './im2col-kernel.ts'
import { MatmulKernel } from './matmul-kernel.ts'
import { MaxPoolGradKernel } from './max-pool-grad-kernel.ts'
import { MaxPoolKernel } from './max-pool-kernel.ts'
import { ReduceStatsKernel } from './reduce-stats-kernel.ts'
import { SoftmaxCeKernel } from './softmax-ce-kernel.ts'

export class Kernels {
  readonly colSums: ColSumsKernel
  readonly matmul: MatmulKernel
  readonly biasAct: BiasActKernel
  readonly actGrad: ActGradKernel
  readonly add: AddKernel
  readonly im2col: Im2colKernel
  readonly col2im: Col2imKernel
  readonly maxPool: MaxPoolKernel
  readonly maxPoolGrad: MaxPoolGradKernel
  readonly softmaxCe: SoftmaxCeKernel
  readonly reduceStats: ReduceStatsKernel

  constructor(readonly device: GPUDevice) {
    this.colSums = new ColSumsKernel(device)
    this.matmul = new MatmulKernel(device, this.colSums)
    this.biasAct = new BiasActKernel(device)
    this.actGrad = new ActGradKernel(device)
    this.add = new AddKernel(device)
    this.im2col = new Im2colKernel(device)
    this.col2im = new Col2imKernel(device)
    this.maxPool = new MaxPoolKernel(device)
    this.maxPoolGrad = new MaxPoolGradKernel(device)
    this.softmaxCe = new SoftmaxCeKernel(device)
    this.reduceStats = new ReduceStatsKernel(device)
  }

  /** Frees the kernels' scratch buffers (split-K partials, column-sum partials, placeholders). */
  destroy(): void {
    this.matmul.destroy()
    this.colSums.destroy()
    this.biasAct.destroy()
  }
}
