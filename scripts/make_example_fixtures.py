#!/usr/bin/env python3
"""Fixtures for test/examples/: public-style PyTorch model files translated line by line to tsnn.

    /usr/bin/python3 scripts/make_example_fixtures.py

Each model below is written the way such files are published (CIFAR ResNet-20 with option-A
shortcuts, LeNet-5, a config-list VGG, a small U-Net, WideResNet/PreAct-ResNet blocks, a
transformer text classifier, a squeeze-excitation net with assorted tensor ops). For each, this
script writes to test/fixtures/examples/:

- <name>.json: repr(model), the input (or its det_tensor recipe), PyTorch's float32 logits and
  PyTorch's own float32-vs-float64 difference on those logits (the tests scale their tolerance to it);
- <name>.pth: the checkpoint as such projects publish it (wrapped dicts, DataParallel "module."
  prefixes, the legacy pre-1.6 format for the 2018 ResNet).

Weights: PyTorch's default init under a fixed seed, BatchNorm statistics and affine parameters
set to non-trivial values (as a trained network has). Legacy files embed memory addresses and so
differ from run to run; everything else is deterministic.
"""
import json
import math
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.init as init

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import det_state_dict, det_tensor, enc  # noqa: E402  (also patches ModuleList.__repr__ to 2.x's)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "examples")


# ================================================================ 1. CIFAR-10 ResNet (2018, option A)

def _weights_init(m):
    if isinstance(m, nn.Linear) or isinstance(m, nn.Conv2d):
        init.kaiming_normal_(m.weight)


class LambdaLayer(nn.Module):
    def __init__(self, lambd):
        super(LambdaLayer, self).__init__()
        self.lambd = lambd

    def forward(self, x):
        return self.lambd(x)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1, option='A'):
        super(BasicBlock, self).__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)

        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            if option == 'A':
                self.shortcut = LambdaLayer(lambda x:
                                            F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4), "constant", 0))
            elif option == 'B':
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride, bias=False),
                    nn.BatchNorm2d(self.expansion * planes)
                )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        out = F.relu(out)
        return out


class ResNet(nn.Module):
    def __init__(self, block, num_blocks, num_classes=10):
        super(ResNet, self).__init__()
        self.in_planes = 16

        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._make_layer(block, 16, num_blocks[0], stride=1)
        self.layer2 = self._make_layer(block, 32, num_blocks[1], stride=2)
        self.layer3 = self._make_layer(block, 64, num_blocks[2], stride=2)
        self.linear = nn.Linear(64, num_classes)

        self.apply(_weights_init)

    def _make_layer(self, block, planes, num_blocks, stride):
        strides = [stride] + [1] * (num_blocks - 1)
        layers = []
        for stride in strides:
            layers.append(block(self.in_planes, planes, stride))
            self.in_planes = planes * block.expansion

        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.layer3(out)
        out = F.avg_pool2d(out, out.size()[3])
        out = out.view(out.size(0), -1)
        out = self.linear(out)
        return out


def resnet20():
    return ResNet(BasicBlock, [3, 3, 3])


def resnet32():
    return ResNet(BasicBlock, [5, 5, 5])


def resnet44():
    return ResNet(BasicBlock, [7, 7, 7])


def resnet56():
    return ResNet(BasicBlock, [9, 9, 9])


# ================================================================ 2. LeNet-5 (the PyTorch tutorial's Net)

class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


# ================================================================ 3. VGG for CIFAR from a config list

cfg = {
    'VGG11': [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    'VGGtiny': [8, 'M', 16, 'M', 32, 32, 'M', 32, 32, 'M', 32, 32, 'M'],
}


class VGG(nn.Module):
    def __init__(self, vgg_name, width=512):
        super(VGG, self).__init__()
        self.features = self._make_layers(cfg[vgg_name])
        self.classifier = nn.Linear(width, 10)

    def forward(self, x):
        out = self.features(x)
        out = out.view(out.size(0), -1)
        out = self.classifier(out)
        return out

    def _make_layers(self, cfg):
        layers = []
        in_channels = 3
        for x in cfg:
            if x == 'M':
                layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
            else:
                layers += [nn.Conv2d(in_channels, x, kernel_size=3, padding=1),
                           nn.BatchNorm2d(x),
                           nn.ReLU(inplace=True)]
                in_channels = x
        layers += [nn.AvgPool2d(kernel_size=1, stride=1)]
        return nn.Sequential(*layers)


# ================================================================ 4. a small U-Net

class DoubleConv(nn.Module):
    """(convolution => [BN] => ReLU) * 2"""

    def __init__(self, in_channels, out_channels, mid_channels=None):
        super().__init__()
        if not mid_channels:
            mid_channels = out_channels
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True)
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    """Downscaling with maxpool then double conv"""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.maxpool_conv = nn.Sequential(
            nn.MaxPool2d(2),
            DoubleConv(in_channels, out_channels)
        )

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    """Upscaling then double conv"""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)

    def forward(self, x1, x2):
        x1 = F.interpolate(x1, scale_factor=2, mode="bilinear", align_corners=True)
        # input is CHW
        diffY = x2.size()[2] - x1.size()[2]
        diffX = x2.size()[3] - x1.size()[3]

        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2,
                        diffY // 2, diffY - diffY // 2])
        x = torch.cat([x2, x1], dim=1)
        return self.conv(x)


class OutConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super(OutConv, self).__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def forward(self, x):
        return self.conv(x)


class UNet(nn.Module):
    def __init__(self, n_channels, n_classes, base=4):
        super(UNet, self).__init__()
        self.n_channels = n_channels
        self.n_classes = n_classes

        self.inc = DoubleConv(n_channels, base)
        self.down1 = Down(base, base * 2)
        self.down2 = Down(base * 2, base * 4)
        self.down3 = Down(base * 4, base * 8)
        self.down4 = Down(base * 8, base * 16 // 2)
        self.up1 = Up(base * 16, base * 8 // 2)
        self.up2 = Up(base * 8, base * 4 // 2)
        self.up3 = Up(base * 4, base * 2 // 2)
        self.up4 = Up(base * 2, base)
        self.outc = OutConv(base, n_classes)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x5 = self.down4(x4)
        x = self.up1(x5, x4)
        x = self.up2(x, x3)
        x = self.up3(x, x2)
        x = self.up4(x, x1)
        logits = self.outc(x)
        return logits


# ================================================================ 5. WideResNet and PreAct-ResNet blocks

class WideBasic(nn.Module):
    def __init__(self, in_planes, out_planes, stride, dropRate=0.0):
        super(WideBasic, self).__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_planes, out_planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.droprate = dropRate
        self.equalInOut = (in_planes == out_planes)
        self.convShortcut = (not self.equalInOut) and nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride,
                                                                padding=0, bias=False) or None

    def forward(self, x):
        if not self.equalInOut:
            x = self.relu1(self.bn1(x))
        else:
            out = self.relu1(self.bn1(x))
        out = self.relu2(self.bn2(self.conv1(out if self.equalInOut else x)))
        if self.droprate > 0:
            out = F.dropout(out, p=self.droprate, training=self.training)
        out = self.conv2(out)
        return torch.add(x if self.equalInOut else self.convShortcut(x), out)


class NetworkBlock(nn.Module):
    def __init__(self, nb_layers, in_planes, out_planes, block, stride, dropRate=0.0):
        super(NetworkBlock, self).__init__()
        self.layer = self._make_layer(block, in_planes, out_planes, nb_layers, stride, dropRate)

    def _make_layer(self, block, in_planes, out_planes, nb_layers, stride, dropRate):
        layers = []
        for i in range(int(nb_layers)):
            layers.append(block(i == 0 and in_planes or out_planes, out_planes, i == 0 and stride or 1, dropRate))
        return nn.Sequential(*layers)

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, depth, num_classes, widen_factor=1, dropRate=0.0):
        super(WideResNet, self).__init__()
        nChannels = [16, 16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        assert ((depth - 4) % 6 == 0)
        n = (depth - 4) / 6
        block = WideBasic
        self.conv1 = nn.Conv2d(3, nChannels[0], kernel_size=3, stride=1, padding=1, bias=False)
        self.block1 = NetworkBlock(n, nChannels[0], nChannels[1], block, 1, dropRate)
        self.block2 = NetworkBlock(n, nChannels[1], nChannels[2], block, 2, dropRate)
        self.block3 = NetworkBlock(n, nChannels[2], nChannels[3], block, 2, dropRate)
        self.bn1 = nn.BatchNorm2d(nChannels[3])
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(nChannels[3], num_classes)
        self.nChannels = nChannels[3]

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)
                m.bias.data.zero_()
            elif isinstance(m, nn.Linear):
                m.bias.data.zero_()

    def forward(self, x):
        out = self.conv1(x)
        out = self.block1(out)
        out = self.block2(out)
        out = self.block3(out)
        out = self.relu(self.bn1(out))
        out = out.mean((2, 3))
        out = out.view(-1, self.nChannels)
        return self.fc(out)


class PreActBlock(nn.Module):
    '''Pre-activation version of the BasicBlock.'''
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super(PreActBlock, self).__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)

        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride, bias=False)
            )

    def forward(self, x):
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if hasattr(self, 'shortcut') else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        out += shortcut
        return out


class PreActResNet(nn.Module):
    def __init__(self, block, num_blocks, num_classes=10, width=8):
        super(PreActResNet, self).__init__()
        self.in_planes = width

        self.conv1 = nn.Conv2d(3, width, kernel_size=3, stride=1, padding=1, bias=False)
        self.layer1 = self._make_layer(block, width, num_blocks[0], stride=1)
        self.layer2 = self._make_layer(block, width * 2, num_blocks[1], stride=2)
        self.bn = nn.BatchNorm2d(width * 2 * block.expansion)
        self.linear = nn.Linear(width * 2 * block.expansion, num_classes)

    def _make_layer(self, block, planes, num_blocks, stride):
        strides = [stride] + [1] * (num_blocks - 1)
        layers = []
        for stride in strides:
            layers.append(block(self.in_planes, planes, stride))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x):
        out = self.conv1(x)
        out = self.layer1(out)
        out = self.layer2(out)
        out = F.relu(self.bn(out))
        out = F.adaptive_avg_pool2d(out, 1)
        out = out.view(out.size(0), -1)
        out = self.linear(out)
        return out


# ================================================================ 6. transformer text classifier

class PositionalEncoding(nn.Module):

    def __init__(self, d_model, dropout=0.1, max_len=5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)

        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer('pe', pe)

    def forward(self, x):
        """x: [batch_size, seq_len, embedding_dim]"""
        x = x + self.pe[:x.size(1)]
        return self.dropout(x)


class TransformerClassifier(nn.Module):
    def __init__(self, ntoken, d_model, nhead, d_hid, nlayers, num_classes, dropout=0.5, pad_idx=0):
        super().__init__()
        self.model_type = 'Transformer'
        self.pad_idx = pad_idx
        self.embedding = nn.Embedding(ntoken, d_model, padding_idx=pad_idx)
        self.pos_encoder = PositionalEncoding(d_model, dropout, max_len=64)
        encoder_layers = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout, batch_first=True)
        self.transformer_encoder = nn.TransformerEncoder(encoder_layers, nlayers)
        self.d_model = d_model
        self.classifier = nn.Linear(d_model, num_classes)

    def forward(self, src):
        """src: [batch_size, seq_len] token ids, pad_idx for padding"""
        pad_mask = src == self.pad_idx
        x = self.embedding(src) * math.sqrt(self.d_model)
        x = self.pos_encoder(x)
        x = self.transformer_encoder(x, src_key_padding_mask=pad_mask)
        keep = (~pad_mask).unsqueeze(-1).float()
        x = (x * keep).sum(1) / keep.sum(1).clamp(min=1)
        return self.classifier(x)


# ================================================================ 7. squeeze-excitation and friends

class SELayer(nn.Module):
    def __init__(self, channel, reduction=16):
        super(SELayer, self).__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(channel, channel // reduction, bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(channel // reduction, channel, bias=False),
            nn.Sigmoid()
        )

    def forward(self, x):
        b, c, _, _ = x.size()
        y = self.avg_pool(x).view(b, c)
        y = self.fc(y).view(b, c, 1, 1)
        return x * y.expand_as(x)


class GatedSENet(nn.Module):
    def __init__(self, in_ch=3, width=16, num_classes=5):
        super().__init__()
        self.stem = nn.Conv2d(in_ch, 2 * width, 3, padding=1)
        self.se = SELayer(width, reduction=4)
        self.head = nn.Linear(2 * width, num_classes)
        self.scale = nn.Parameter(torch.ones(1, width, 1, 1) * 0.5)

    def forward(self, x):
        x = self.stem(x)
        a, b = x.chunk(2, dim=1)
        x = a * torch.sigmoid(b)                       # GLU-style gate
        x = self.se(x) * self.scale
        x = torch.clamp(x, min=-1.0, max=1.0)
        x = torch.where(x > 0, x, 0.1 * x)              # leaky by hand
        x[..., 0] = 0                                  # zero the first column
        x[:, :, -1, :] = x[:, :, -1, :] * 2
        avg = x.mean(dim=(-2, -1))
        mx = x.amax(dim=(2, 3))
        feats = torch.cat((avg, mx), dim=1)
        return self.head(feats)


# ================================================================ 8. ConvNeXt blocks and ViT attention (timm style)

def drop_path(x, drop_prob: float = 0., training: bool = False, scale_by_keep: bool = True):
    if drop_prob == 0. or not training:
        return x
    keep_prob = 1 - drop_prob
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    random_tensor = x.new_empty(shape).bernoulli_(keep_prob)
    if keep_prob > 0.0 and scale_by_keep:
        random_tensor.div_(keep_prob)
    return x * random_tensor


class DropPath(nn.Module):
    def __init__(self, drop_prob: float = 0., scale_by_keep: bool = True):
        super(DropPath, self).__init__()
        self.drop_prob = drop_prob
        self.scale_by_keep = scale_by_keep

    def forward(self, x):
        return drop_path(x, self.drop_prob, self.training, self.scale_by_keep)

    def extra_repr(self):
        return f'drop_prob={round(self.drop_prob, 3):0.3f}'


class LayerNorm(nn.Module):
    """LayerNorm for channels_last (N, H, W, C) or channels_first (N, C, H, W) inputs."""

    def __init__(self, normalized_shape, eps=1e-6, data_format="channels_last"):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(normalized_shape))
        self.bias = nn.Parameter(torch.zeros(normalized_shape))
        self.eps = eps
        self.data_format = data_format
        if self.data_format not in ["channels_last", "channels_first"]:
            raise NotImplementedError
        self.normalized_shape = (normalized_shape, )

    def forward(self, x):
        if self.data_format == "channels_last":
            return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        elif self.data_format == "channels_first":
            u = x.mean(1, keepdim=True)
            s = (x - u).pow(2).mean(1, keepdim=True)
            x = (x - u) / torch.sqrt(s + self.eps)
            x = self.weight[:, None, None] * x + self.bias[:, None, None]
            return x


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim, drop_path=0., layer_scale_init_value=1e-6):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)  # depthwise conv
        self.norm = LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)  # pointwise/1x1 convs, implemented with linear layers
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(layer_scale_init_value * torch.ones((dim)),
                                  requires_grad=True) if layer_scale_init_value > 0 else None
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()

    def forward(self, x):
        input = x
        x = self.dwconv(x)
        x = x.permute(0, 2, 3, 1)  # (N, C, H, W) -> (N, H, W, C)
        x = self.norm(x)
        x = self.pwconv1(x)
        x = self.act(x)
        x = self.pwconv2(x)
        if self.gamma is not None:
            x = self.gamma * x
        x = x.permute(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)

        x = input + self.drop_path(x)
        return x


class Attention(nn.Module):
    def __init__(self, dim, num_heads=8, qkv_bias=False, attn_drop=0., proj_drop=0.):
        super().__init__()
        assert dim % num_heads == 0, 'dim should be divisible by num_heads'
        self.num_heads = num_heads
        head_dim = dim // num_heads
        self.scale = head_dim ** -0.5

        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)

        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        attn = self.attn_drop(attn)

        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        x = self.proj(x)
        x = self.proj_drop(x)
        return x


class Mlp(nn.Module):
    def __init__(self, in_features, hidden_features=None, out_features=None, act_layer=nn.GELU, drop=0.):
        super().__init__()
        out_features = out_features or in_features
        hidden_features = hidden_features or in_features
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = act_layer()
        self.drop1 = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden_features, out_features)
        self.drop2 = nn.Dropout(drop)

    def forward(self, x):
        x = self.fc1(x)
        x = self.act(x)
        x = self.drop1(x)
        x = self.fc2(x)
        x = self.drop2(x)
        return x


class ViTBlock(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio=4., qkv_bias=False, drop_path=0.):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads=num_heads, qkv_bias=qkv_bias)
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(in_features=dim, hidden_features=int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.drop_path(self.attn(self.norm1(x)))
        x = x + self.drop_path(self.mlp(self.norm2(x)))
        return x


class TinyHybrid(nn.Module):
    def __init__(self, img_size=16, dim=16, depths=(2, 2), num_heads=2, num_classes=7, drop_path_rate=0.1):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, dim, kernel_size=4, stride=4),
            LayerNorm(dim, eps=1e-6, data_format="channels_first")
        )
        dpr = [x.item() for x in torch.linspace(0, drop_path_rate, sum(depths))]
        self.stage = nn.Sequential(*[ConvNeXtBlock(dim, drop_path=dpr[j]) for j in range(depths[0])])
        num_patches = (img_size // 4) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, num_patches + 1, dim) * .02)
        self.blocks = nn.ModuleList([
            ViTBlock(dim, num_heads, qkv_bias=True, drop_path=dpr[depths[0] + i]) for i in range(depths[1])])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = self.stem(x)
        x = self.stage(x)
        x = x.flatten(2).transpose(1, 2)  # B, N, C
        cls_token = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat((cls_token, x), dim=1)
        x = x + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        return self.head(x[:, 0])



# ================================================================ 9. a YOLOv5-style tiny detector (Detect head)

def autopad(k, p=None):  # kernel, padding
    # Pad to 'same'
    if p is None:
        p = k // 2 if isinstance(k, int) else [x // 2 for x in k]  # auto-pad
    return p


class Conv(nn.Module):
    # Standard convolution
    def __init__(self, c1, c2, k=1, s=1, p=None, g=1, act=True):  # ch_in, ch_out, kernel, stride, padding, groups
        super(Conv, self).__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, autopad(k, p), groups=g, bias=False)
        self.bn = nn.BatchNorm2d(c2)
        self.act = nn.LeakyReLU(0.1, inplace=True) if act else nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Concat(nn.Module):
    # Concatenate a list of tensors along dimension
    def __init__(self, dimension=1):
        super(Concat, self).__init__()
        self.d = dimension

    def forward(self, x):
        return torch.cat(x, self.d)


class Detect(nn.Module):
    stride = None  # strides computed during build

    def __init__(self, nc=80, anchors=(), ch=()):  # detection layer
        super(Detect, self).__init__()
        self.nc = nc  # number of classes
        self.no = nc + 5  # number of outputs per anchor
        self.nl = len(anchors)  # number of detection layers
        self.na = len(anchors[0]) // 2  # number of anchors
        self.grid = [torch.zeros(1)] * self.nl  # init grid
        a = torch.tensor(anchors).float().view(self.nl, -1, 2)
        self.register_buffer('anchors', a)  # shape(nl,na,2)
        self.register_buffer('anchor_grid', a.clone().view(self.nl, 1, -1, 1, 1, 2))  # shape(nl,1,na,1,1,2)
        self.m = nn.ModuleList(nn.Conv2d(x, self.no * self.na, 1) for x in ch)  # output conv

    def forward(self, x):
        z = []  # inference output
        for i in range(self.nl):
            x[i] = self.m[i](x[i])  # conv
            bs, _, ny, nx = x[i].shape  # x(bs,255,20,20) to x(bs,3,20,20,85)
            x[i] = x[i].view(bs, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous()

            if not self.training:  # inference
                if self.grid[i].shape[2:4] != x[i].shape[2:4]:
                    self.grid[i] = self._make_grid(nx, ny)

                y = x[i].sigmoid()
                y[..., 0:2] = (y[..., 0:2] * 2. - 0.5 + self.grid[i]) * self.stride[i]  # xy
                y[..., 2:4] = (y[..., 2:4] * 2) ** 2 * self.anchor_grid[i]  # wh
                z.append(y.view(bs, -1, self.no))

        return x if self.training else (torch.cat(z, 1), x)

    @staticmethod
    def _make_grid(nx=20, ny=20):
        yv, xv = torch.meshgrid([torch.arange(ny), torch.arange(nx)])
        return torch.stack((xv, yv), 2).view((1, 1, ny, nx, 2)).float()


class TinyYolo(nn.Module):
    def __init__(self, nc=3, anchors=((10, 13, 16, 30, 33, 23), (30, 61, 62, 45, 59, 119))):
        super().__init__()
        self.b0 = Conv(3, 8, 3, 2)        # /2
        self.b1 = Conv(8, 16, 3, 2)       # /4
        self.b2 = Conv(16, 16, 3, 2)      # /8  -> P3
        self.b3 = Conv(16, 32, 3, 2)      # /16 -> P4
        self.lat = Conv(32, 16, 1, 1)
        self.up = nn.Upsample(None, 2, 'nearest')
        self.cat = Concat(1)
        self.fuse = Conv(32, 16, 3, 1)
        self.detect = Detect(nc, anchors, (16, 32))
        self.detect.stride = torch.tensor([8., 16.])
        self.detect.anchors /= self.detect.stride.view(-1, 1, 1)

    def forward(self, x):
        p3 = self.b2(self.b1(self.b0(x)))
        p4 = self.b3(p3)
        p3 = self.fuse(self.cat([self.up(self.lat(p4)), p3]))
        return self.detect([p3, p4])



# ================================================================ 10. pytorch/examples MNIST Net; CIFAR zoo blocks (ShuffleNet, DenseNet, EfficientNet SE)

class MnistNet(nn.Module):
    def __init__(self):
        super(MnistNet, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


class ShuffleBlock(nn.Module):
    def __init__(self, groups):
        super(ShuffleBlock, self).__init__()
        self.groups = groups

    def forward(self, x):
        '''Channel shuffle: [N,C,H,W] -> [N,g,C/g,H,W] -> [N,C/g,g,H,w] -> [N,C,H,W]'''
        N, C, H, W = x.size()
        g = self.groups
        return x.view(N, g, C // g, H, W).permute(0, 2, 1, 3, 4).reshape(N, C, H, W)


class ShuffleBottleneck(nn.Module):
    def __init__(self, in_planes, out_planes, stride, groups):
        super(ShuffleBottleneck, self).__init__()
        self.stride = stride

        mid_planes = out_planes // 4
        g = 1 if in_planes == 24 else groups
        self.conv1 = nn.Conv2d(in_planes, mid_planes, kernel_size=1, groups=g, bias=False)
        self.bn1 = nn.BatchNorm2d(mid_planes)
        self.shuffle1 = ShuffleBlock(groups=g)
        self.conv2 = nn.Conv2d(mid_planes, mid_planes, kernel_size=3, stride=stride, padding=1, groups=mid_planes, bias=False)
        self.bn2 = nn.BatchNorm2d(mid_planes)
        self.conv3 = nn.Conv2d(mid_planes, out_planes, kernel_size=1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(out_planes)

        self.shortcut = nn.Sequential()
        if stride == 2:
            self.shortcut = nn.Sequential(nn.AvgPool2d(3, stride=2, padding=1))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.shuffle1(out)
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        res = self.shortcut(x)
        out = F.relu(torch.cat([out, res], 1)) if self.stride == 2 else F.relu(out + res)
        return out


class DenseBottleneck(nn.Module):
    def __init__(self, in_planes, growth_rate):
        super(DenseBottleneck, self).__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, 4 * growth_rate, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth_rate)
        self.conv2 = nn.Conv2d(4 * growth_rate, growth_rate, kernel_size=3, padding=1, bias=False)

    def forward(self, x):
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        out = torch.cat([out, x], 1)
        return out


class Transition(nn.Module):
    def __init__(self, in_planes, out_planes):
        super(Transition, self).__init__()
        self.bn = nn.BatchNorm2d(in_planes)
        self.conv = nn.Conv2d(in_planes, out_planes, kernel_size=1, bias=False)

    def forward(self, x):
        out = self.conv(F.relu(self.bn(x)))
        out = F.avg_pool2d(out, 2)
        return out


def swish(x):
    return x * x.sigmoid()


def drop_connect(x, drop_ratio):
    keep_ratio = 1.0 - drop_ratio
    mask = torch.empty([x.shape[0], 1, 1, 1], dtype=x.dtype, device=x.device)
    mask.bernoulli_(keep_ratio)
    x.div_(keep_ratio)
    x.mul_(mask)
    return x


class SE(nn.Module):
    '''Squeeze-and-Excitation block with Swish.'''

    def __init__(self, in_channels, se_channels):
        super(SE, self).__init__()
        self.se1 = nn.Conv2d(in_channels, se_channels, kernel_size=1, bias=True)
        self.se2 = nn.Conv2d(se_channels, in_channels, kernel_size=1, bias=True)

    def forward(self, x):
        out = F.adaptive_avg_pool2d(x, (1, 1))
        out = swish(self.se1(out))
        out = self.se2(out).sigmoid()
        out = x * out
        return out


class TinyZoo(nn.Module):
    def __init__(self, num_classes=10):
        super(TinyZoo, self).__init__()
        self.conv1 = nn.Conv2d(3, 24, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        self.shuffle = nn.Sequential(ShuffleBottleneck(24, 40, 2, 2), ShuffleBottleneck(64, 64, 1, 2))
        self.dense = nn.Sequential(DenseBottleneck(64, 8), DenseBottleneck(72, 8))
        self.trans = Transition(80, 40)
        self.se = SE(40, 10)
        self.drop_rate = 0.2
        self.linear = nn.Linear(40, num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.shuffle(out)
        out = self.dense(out)
        out = self.trans(out)
        out = swish(self.se(out))
        if self.training and self.drop_rate > 0:
            out = drop_connect(out, self.drop_rate)
        out = F.adaptive_avg_pool2d(out, 1)
        out = out.view(out.size(0), -1)
        out = self.linear(out)
        return out


# ================================================================ helpers

def perturb(model, seed):
    """Non-trivial BatchNorm statistics and affine parameters, as a trained network has."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.rand(m.num_features, generator=g) * 0.2 - 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) * 0.4 + 0.8)
                m.bias.copy_(torch.rand(m.num_features, generator=g) * 0.2 - 0.1)
                m.num_batches_tracked.fill_(7820)
    return model


def write(name, obj):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
    print(f"wrote {name} ({os.path.getsize(path)} bytes)")


def logits_of(model, x):
    """float32 logits and PyTorch's own float32-vs-float64 max difference on them."""
    model.eval()
    with torch.no_grad():
        y32 = model(x.clone())
        m64 = model.double()
        y64 = m64(x.double() if x.is_floating_point() else x.clone())
        model.float()
    return y32, float((y32.double() - y64).abs().max())


def record(name, model, x, extra=None, input_recipe=None):
    y, f64diff = logits_of(model, x)
    obj = {"torch": torch.__version__, "repr": repr(model), "logits": enc(y), "f32_vs_f64": f64diff}
    obj["input"] = input_recipe if input_recipe is not None else enc(x)
    if extra:
        obj.update(extra)
    write(name + ".json", obj)
    return y


def main():
    os.makedirs(OUT, exist_ok=True)

    # 1. ResNet-20: published as {'state_dict', 'best_prec1'} from DataParallel, legacy format (2018).
    torch.manual_seed(0)
    net = perturb(resnet20(), 1)
    x = det_tensor(1000, [2, 3, 32, 32])
    wrapped = nn.DataParallel(net)
    torch.save({'state_dict': wrapped.state_dict(), 'best_prec1': 91.73}, os.path.join(OUT, "resnet20.th"),
               _use_new_zipfile_serialization=False)
    record("cifar_resnet20", net, x, extra={
        "prints": {k: repr(f()) for k, f in [("resnet32", resnet32), ("resnet44", resnet44), ("resnet56", resnet56)]},
        "keys": len(net.state_dict()),
    }, input_recipe={"det": [1000, [2, 3, 32, 32]]})

    # 2. LeNet-5: a plain state dict, zip format.
    torch.manual_seed(1)
    net = LeNet()
    torch.save(net.state_dict(), os.path.join(OUT, "lenet.pth"))
    record("lenet", net, det_tensor(2000, [3, 1, 32, 32]), input_recipe={"det": [2000, [3, 1, 32, 32]]})

    # 3. VGG: {'net': DataParallel state dict, 'acc', 'epoch'}.
    torch.manual_seed(2)
    net = perturb(VGG('VGGtiny', width=32), 2)
    torch.save({'net': nn.DataParallel(net).state_dict(), 'acc': 93.2, 'epoch': 199}, os.path.join(OUT, "vgg_ckpt.pth"))
    record("vgg_tiny", net, det_tensor(3000, [2, 3, 32, 32]),
           extra={"vgg11": repr(VGG('VGG11'))}, input_recipe={"det": [3000, [2, 3, 32, 32]]})

    # 4. U-Net: state dict with an extra non-tensor entry 'mask_values', odd input size (pads in Up).
    torch.manual_seed(3)
    net = perturb(UNet(n_channels=3, n_classes=2, base=4), 3)
    sd = net.state_dict()
    sd['mask_values'] = [0, 1]
    torch.save(sd, os.path.join(OUT, "unet.pth"))
    record("unet", net, det_tensor(4000, [1, 3, 36, 44]), input_recipe={"det": [4000, [1, 3, 36, 44]]})

    # 5. WideResNet-10-1 with dropout 0.3 (plain state dict), PreAct-ResNet with hasattr shortcuts.
    torch.manual_seed(4)
    net = perturb(WideResNet(10, 10, widen_factor=1, dropRate=0.3), 4)
    torch.save(net.state_dict(), os.path.join(OUT, "wrn_10_1.pth"))
    record("wrn_10_1", net, det_tensor(5000, [2, 3, 32, 32]), input_recipe={"det": [5000, [2, 3, 32, 32]]})
    torch.manual_seed(5)
    net = perturb(PreActResNet(PreActBlock, [2, 2], width=8), 5)
    torch.save({'model': net.state_dict(), 'epoch': 10}, os.path.join(OUT, "preact.pth"))
    record("preact", net, det_tensor(6000, [2, 3, 16, 16]), input_recipe={"det": [6000, [2, 3, 16, 16]]})

    # 6. Transformer classifier: token ids with padding at the end of shorter rows.
    torch.manual_seed(6)
    net = TransformerClassifier(ntoken=50, d_model=16, nhead=2, d_hid=32, nlayers=2, num_classes=3, dropout=0.1)
    tokens = torch.tensor([[5, 17, 23, 9, 41, 2, 0, 0], [11, 3, 0, 0, 0, 0, 0, 0], [7, 8, 9, 10, 11, 12, 13, 14]])
    torch.save(net.state_dict(), os.path.join(OUT, "transformer_cls.pth"))
    record("transformer_cls", net, tokens, extra={"pe": enc(net.pos_encoder.pe)})
    # the same encoder with a causal float mask (-inf above the diagonal), as language models use it
    with torch.no_grad():
        net.eval()
        x = net.pos_encoder(net.embedding(tokens) * math.sqrt(net.d_model))
        causal = torch.triu(torch.full((8, 8), float('-inf')), diagonal=1)
        write("transformer_causal.json", {"mask": [[None if math.isinf(v) else v for v in row] for row in causal.tolist()],
                                          "output": enc(net.transformer_encoder(x, mask=causal))})

    # 7. SE net with chunk/sigmoid/clamp/where/index assignment.
    torch.manual_seed(7)
    net = GatedSENet()
    torch.save(net.state_dict(), os.path.join(OUT, "gated_se.pth"))
    record("gated_se", net, det_tensor(7000, [2, 3, 8, 8], 2.0), input_recipe={"det": [7000, [2, 3, 8, 8], 2.0]})

    # 8. ConvNeXt stem/blocks + ViT blocks (layer scale, DropPath, cls token): {'model': ...} with
    #    non-trivial layer-scale gammas and LayerNorm affine parameters.
    torch.manual_seed(8)
    net = TinyHybrid()
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith("gamma") or (p.dim() == 1 and "norm" in name) or name.startswith("stem.1"):
                p.copy_(torch.rand(p.shape) * 0.5 + (0.75 if name.endswith("weight") or name.endswith("gamma") else -0.25))
        net.cls_token.normal_(0, 0.5)
    torch.save({'model': net.state_dict()}, os.path.join(OUT, "hybrid.pth"))
    record("hybrid", net, det_tensor(8000, [2, 3, 16, 16]), input_recipe={"det": [8000, [2, 3, 16, 16]]})

    # 9. Tiny YOLOv5-style detector: {'model': half-precision state dict, 'epoch': -1}; PyTorch's
    #    reference runs on the half-rounded weights (as a user loading with .float() would).
    torch.manual_seed(9)
    net = perturb(TinyYolo(), 9)
    half = OrderedDict((k, v.half() if v.is_floating_point() else v) for k, v in net.state_dict().items())
    torch.save({'epoch': -1, 'model': half}, os.path.join(OUT, "tiny_yolo.pth"))
    net.load_state_dict(OrderedDict((k, v.float() if v.is_floating_point() else v) for k, v in half.items()))
    net.eval()
    x = det_tensor(9000, [1, 3, 64, 48])
    with torch.no_grad():
        pred, feats = net(x)
        m64 = TinyYolo().double()
        m64.load_state_dict({k: v.double() if v.is_floating_point() else v for k, v in net.state_dict().items()})
        m64.detect.stride = m64.detect.stride.double()
        m64.eval()
        p64, _ = m64(x.double())
    write("tiny_yolo.json", {"torch": torch.__version__, "repr": repr(net), "input": {"det": [9000, [1, 3, 64, 48]]},
                             "pred": enc(pred), "feats": [enc(f) for f in feats],
                             "f32_vs_f64": float((pred.double() - p64).abs().max())})

    # 10. MNIST Net: 1.2M parameters, so no checkpoint: det_state_dict weights, rebuilt by the test.
    net = MnistNet()
    det_state_dict(net, 4242)
    record("mnist_net", net, det_tensor(10000, [2, 1, 28, 28]), input_recipe={"det": [10000, [2, 1, 28, 28]]})
    torch.manual_seed(10)
    net = perturb(TinyZoo(), 10)
    torch.save({'net': net.state_dict(), 'acc': 90.1, 'epoch': 150}, os.path.join(OUT, "tiny_zoo.pth"))
    record("tiny_zoo", net, det_tensor(11000, [2, 3, 16, 16]), input_recipe={"det": [11000, [2, 3, 16, 16]]})


if __name__ == "__main__":
    sys.exit(main())
