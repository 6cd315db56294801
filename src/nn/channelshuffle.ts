/**
 * `ChannelShuffle` (PyTorch: `torch/nn/modules/channelshuffle.py`).
 */
import { Tensor } from "../tensor/index.js";
import * as F from "./functional.js";
import { Module } from "./module.js";

/**
 * Interleave the channels of `[N, C, *]` across `groups` (PyTorch: `nn.ChannelShuffle(groups)`):
 * channel `g·(C/groups) + k` moves to `k·groups + g`, as ShuffleNet's `view`/`transpose` does.
 */
export class ChannelShuffle extends Module {
  groups: number;

  constructor(groups: number) {
    super();
    this.groups = groups;
  }

  override forward(x: Tensor): Tensor {
    return F.channelShuffle(x, this.groups);
  }

  override extraRepr(): string {
    return `groups=${this.groups}`;
  }
}
