using CnnService.Engine.Layers;

namespace CnnService.Engine.Runtime;

/// <summary>
/// How a forward pass runs a model's graph, decided once at load time: which layers run (a ReLU
/// fused into the layer before it and views such as flatten run nothing), and where every tensor
/// lives. Tensors are planned by lifetime: a buffer is reused once its last reader has run, an
/// elementwise layer writes over its input when it is that input's last reader, and the step that
/// produces the model's output writes straight into the caller's buffer (a plan for one image also has the layers
/// making a concat's parts write them straight into its output). The arena is laid out both by
/// first fit and from two ends, and the smaller layout kept (a chain then needs at most its two largest
/// neighbouring activations). Offsets are in floats per image, so one plan serves every batch size:
/// a pass multiplies them by its batch.
/// </summary>
internal sealed class GraphPlan
{
    /// <summary>Buffer 0 is the caller's input and buffer 1 the caller's output; the rest live in the arena.</summary>
    public const int InputBuffer = 0, OutputBuffer = 1;

    /// <summary>Buffers start on a cache line: 16 floats.</summary>
    private const long Align = 16;

    /// <summary>One layer call: the buffers it reads, in order, and the one it writes, each tensor this many floats
    /// into its buffer (0 but for the parts of a concat written in place, <see cref="Create"/>'s elideConcats).</summary>
    public readonly record struct Step(Layer Layer, int[] Inputs, int Output, long[] InputOffsets, long OutputOffset);

    /// <summary>Steps [First, End) run a chunk of <see cref="ChunkImages"/> images through all of them before the next
    /// chunk (0: each step over the whole batch); their chunk-region buffers need that many times
    /// <see cref="LocalFloatsPerImage"/> floats.</summary>
    public readonly record struct Segment(int First, int End, int ChunkImages, long LocalFloatsPerImage)
    {
        /// <summary>Images per chunk at this batch: all of them for a whole-batch segment.</summary>
        public int Images(int batch) => ChunkImages == 0 ? batch : Math.Min(ChunkImages, batch);
    }

    private GraphPlan(Step[] steps, Segment[] segments, long[] offsets, long[] strides, bool[] local, long arenaFloats, int resultBuffer, int maxInputs)
    {
        Steps = steps;
        Segments = segments;
        Offsets = offsets;
        Strides = strides;
        Local = local;
        ArenaFloatsPerImage = arenaFloats;
        ResultBuffer = resultBuffer;
        MaxInputs = maxInputs;
        SmallestChunk = int.MaxValue;
        foreach (var segment in segments) if (segment.ChunkImages > 0) SmallestChunk = Math.Min(SmallestChunk, segment.ChunkImages);
    }

    public Step[] Steps { get; }

    /// <summary>The steps in order, grouped into segments that run chunk by chunk or over the whole batch.</summary>
    public Segment[] Segments { get; }

    /// <summary>Each arena buffer's offset in floats per image (unused for buffers 0 and 1): in the batch region, or for a
    /// <see cref="Local"/> buffer in the chunk region, per image of a chunk.</summary>
    public long[] Offsets { get; }

    /// <summary>Each buffer's floats per image: how far apart its images lie (a convolution's padded output is wider than its shape).</summary>
    public long[] Strides { get; }

    /// <summary>Buffers written and read only inside one chunked segment: they live in the chunk region, one chunk at a time.</summary>
    public bool[] Local { get; }

    /// <summary>Floats one image needs in the batch region of the arena; the chunk region, then scratch, follow batch times this.</summary>
    public long ArenaFloatsPerImage { get; }

    /// <summary>The fewest images per chunk of any chunked segment (int.MaxValue when none is): a batch up to this many runs in one chunk everywhere.</summary>
    public int SmallestChunk { get; }

    /// <summary>The chunk region at this batch: the largest any segment needs.</summary>
    public long LocalFloats(int batch)
    {
        long floats = 0;
        foreach (var segment in Segments) floats = Math.Max(floats, segment.Images(batch) * segment.LocalFloatsPerImage);
        return floats;
    }

    /// <summary>The most scratch any step needs, for the images it takes at a time at this batch.</summary>
    public long ScratchFloats(int batch)
    {
        long floats = 0;
        foreach (var segment in Segments)
            for (int s = segment.First; s < segment.End; s++) floats = Math.Max(floats, Steps[s].Layer.ScratchFloats(segment.Images(batch)));
        return floats;
    }

    /// <summary>Everything a pass of this batch needs in the arena: both regions and scratch.</summary>
    public long ArenaFloats(int batch) => batch * ArenaFloatsPerImage + LocalFloats(batch) + ScratchFloats(batch);

    /// <summary>Where the model's output ends up: <see cref="OutputBuffer"/>, or the input (a network of views only), which is then copied.</summary>
    public int ResultBuffer { get; }

    /// <summary>The most inputs any step reads: the size of <see cref="ParallelJob.Inputs"/>.</summary>
    public int MaxInputs { get; }

    /// <param name="layers">The graph's layers in an order that can run.</param>
    /// <param name="inputs">Each layer's inputs as tensor ids: 0 is the model's input, i + 1 is layer i's output.</param>
    /// <param name="skipped">Layers that run inside the layer they read (a fused ReLU): their output is that layer's.</param>
    /// <param name="chunked">Whether runs of layers take the batch a chunk of images at a time (<see cref="BatchChunking"/>);
    /// without, every step is a segment of its own over the whole batch.</param>
    /// <param name="chunkImages">Images per chunk, instead of what <see cref="BatchChunking.Images"/> gives (tests).</param>
    /// <param name="elideConcats">A plan for one image: a concat whose parts nobody reads after it runs nothing, its
    /// parts written in place, one after the other, into its output (SqueezeNet's eight concats copied 2.5 % of its
    /// pass). One image only: with more, a part's images would lie a whole concat apart, and layers write theirs
    /// back to back.</param>
    public static GraphPlan Create(IReadOnlyList<Layer> layers, int[][] inputs, bool[] skipped, bool chunked = false, int? chunkImages = null, bool elideConcats = false)
    {
        int n = layers.Count, result = n; // the last layer's output is the model's

        // Each tensor's buffer: views and fused layers share their input's; a concat's parts lie inside its output.
        var bufferOf = new int[n + 1];
        var offsetOf = new long[n + 1]; // floats into its buffer
        var size = new List<long> { 0, 0 };      // floats per image, by buffer
        var lastRead = new List<int> { -1, -1 }; // the last step reading each buffer
        var stepLayers = new List<int>();
        bufferOf[0] = InputBuffer;
        for (int i = 0; i < n; i++)
        {
            Layer layer = layers[i];
            if (skipped[i] || layer.IsView)
            {
                bufferOf[i + 1] = bufferOf[inputs[i][0]];
                offsetOf[i + 1] = offsetOf[inputs[i][0]];
                continue;
            }

            if (elideConcats && layer is Concat && InPlaceParts(i) is int[] parts)
            {
                // The concat's output is a new buffer; every tensor in a part's buffer moves into it at the part's place.
                int joined = size.Count;
                size.Add(layer.OutputShape.Size);
                lastRead.Add(-1);
                long at = 0;
                for (int k = 0; k < parts.Length; k++)
                {
                    for (int t = 0; t <= i; t++)
                    {
                        if (bufferOf[t] != parts[k]) continue;
                        bufferOf[t] = joined;
                        offsetOf[t] += at;
                    }

                    at += layer.InputShapes[k].Size;
                }

                bufferOf[i + 1] = joined;
                continue;
            }

            int step = stepLayers.Count;
            stepLayers.Add(i);
            foreach (int t in inputs[i]) lastRead[bufferOf[t]] = step;

            int input = bufferOf[inputs[i][0]];
            // In place only over a buffer that is ours to overwrite and read by nobody after this step.
            if (layer.InPlace && input != InputBuffer && lastRead[input] == step && !ReadLater(i, input))
            {
                bufferOf[i + 1] = input;
                offsetOf[i + 1] = offsetOf[inputs[i][0]];
                continue;
            }

            bufferOf[i + 1] = size.Count;
            size.Add(layer is Conv2D conv ? conv.OutputFloatsPerImage : layer.OutputShape.Size);
            lastRead.Add(step);
        }

        // InPlaceParts: the buffers of concat i's parts if each holds that part alone (a layer's output, not the model's
        // input, the part the whole buffer), no two the same, and nothing reads them after the concat (which leaves a
        // layer after it free to write over the join in place); else null.
        int[]? InPlaceParts(int i)
        {
            var parts = new int[inputs[i].Length];
            for (int k = 0; k < parts.Length; k++)
            {
                int t = inputs[i][k], b = bufferOf[t];
                if (b == InputBuffer || offsetOf[t] != 0 || size[b] != layers[i].InputShapes[k].Size || ReadLater(i, b)) return null;
                for (int j = 0; j < k; j++) if (parts[j] == b) return null;
                parts[k] = b;
            }

            return parts;
        }

        // ReadLater: whether a layer after i reads a tensor in buffer b (lastRead only knows steps so far).
        bool ReadLater(int i, int b)
        {
            for (int j = i + 1; j < n; j++)
                foreach (int t in inputs[j])
                    if (bufferOf[t] == b) return true;
            return result != i + 1 && bufferOf[result] == b; // the model's output is read by the caller
        }

        // Final reads, now that every tensor has its buffer; the result is read after the last step.
        for (int s = 0; s < stepLayers.Count; s++)
            foreach (int t in inputs[stepLayers[s]]) lastRead[bufferOf[t]] = Math.Max(lastRead[bufferOf[t]], s);

        int resultBuffer = bufferOf[result];
        var remap = new int[size.Count];
        remap[InputBuffer] = InputBuffer;
        if (resultBuffer != InputBuffer)
        {
            remap[resultBuffer] = OutputBuffer; // written straight into the caller's output
            resultBuffer = OutputBuffer;
        }

        // Number the arena buffers in the order they are born, noting each one's size, lifetime and what its step reads first.
        var born = new List<(long Size, int Born, int LastRead, int Input)>();
        int next = 2;
        var stepsOut = new Step[stepLayers.Count];
        int maxInputs = 1;
        for (int s = 0; s < stepLayers.Count; s++)
        {
            int i = stepLayers[s];
            int produced = bufferOf[i + 1];
            if (remap[produced] == 0 && produced != InputBuffer)
            {
                remap[produced] = next++;
                born.Add((size[produced], s, lastRead[produced], remap[bufferOf[inputs[i][0]]]));
            }

            int[] reads = inputs[i].Select(t => remap[bufferOf[t]]).ToArray();
            maxInputs = Math.Max(maxInputs, reads.Length);
            stepsOut[s] = new Step(layers[i], reads, remap[produced], inputs[i].Select(t => offsetOf[t]).ToArray(), offsetOf[i + 1]);
        }

        // Floats per image of every buffer, as its writer and readers step from one image to the next.
        var strides = new long[next];
        for (int b = 0; b < size.Count; b++) if (remap[b] >= 2 || (b != InputBuffer && remap[b] == OutputBuffer)) strides[remap[b]] = size[b];
        strides[InputBuffer] = ModelInputSize(layers, inputs);

        Segment[] segments = chunked ? PlanSegments(stepsOut, strides, chunkImages) : stepsOut.Select((_, s) => new Segment(s, s + 1, 0, 0)).ToArray();
        var segmentOf = new int[stepsOut.Length];
        for (int g = 0; g < segments.Length; g++) for (int s = segments[g].First; s < segments[g].End; s++) segmentOf[s] = g;

        // A buffer written and read only inside one chunked segment lives in the chunk region: room for one chunk,
        // reused by the next. Any other lives in the batch region for as long as the segments that touch it run,
        // since a chunk may write it before the next chunk has read what was there.
        var local = new bool[next];
        var batchBuffers = new List<ArenaBuffer>();
        var localBuffers = new List<ArenaBuffer>();
        var index = new int[next]; // each arena buffer's index in its list
        for (int k = 0; k < born.Count; k++)
        {
            var (length, first, last, input) = born[k];
            length = (length + Align - 1) / Align * Align;
            Segment from = segments[segmentOf[first]], to = segments[segmentOf[last]];
            int b = k + 2;
            local[b] = from.ChunkImages > 0 && segmentOf[first] == segmentOf[last];
            List<ArenaBuffer> list = local[b] ? localBuffers : batchBuffers;
            int reads = input >= 2 && local[input] == local[b] ? index[input] : -1;
            index[b] = list.Count;
            list.Add(local[b] ? new ArenaBuffer(length, first, last, reads)
                : new ArenaBuffer(length, from.ChunkImages > 0 ? from.First : first, to.ChunkImages > 0 ? to.End - 1 : last, reads));
        }

        long[] batchOffsets = Layout(batchBuffers, out long arena), localOffsets = Layout(localBuffers, out _);
        var offsets = new long[next];
        for (int b = 2; b < next; b++) offsets[b] = (local[b] ? localOffsets : batchOffsets)[index[b]];
        for (int g = 0; g < segments.Length; g++)
        {
            long extent = 0;
            for (int b = 2; b < next; b++)
                if (local[b] && segmentOf[born[b - 2].Born] == g) extent = Math.Max(extent, offsets[b] + localBuffers[index[b]].Length);
            segments[g] = segments[g] with { LocalFloatsPerImage = extent };
        }

        return new GraphPlan(stepsOut, segments, offsets, strides, local, arena, resultBuffer, maxInputs);
    }

    /// <summary>Two layouts; the smaller wins. First fit packs branching graphs well; a chain it can make
    /// climb (each new tensor a little wider than the gap below the live one), while two ends never need
    /// more than the largest pair alive together.</summary>
    private static long[] Layout(List<ArenaBuffer> buffers, out long arena)
    {
        long[] placed = FirstFit(buffers, out arena);
        long[] twoEnded = TwoEnded(buffers, out long twoEndedArena);
        if (twoEndedArena < arena) (placed, arena) = (twoEnded, twoEndedArena);
        return placed;
    }

    /// <summary>The floats of one image of the model's input, from a layer that reads it.</summary>
    private static long ModelInputSize(IReadOnlyList<Layer> layers, int[][] inputs)
    {
        for (int i = 0; i < layers.Count; i++)
            for (int k = 0; k < inputs[i].Length; k++)
                if (inputs[i][k] == 0) return layers[i].InputShapes[k].Size;
        return 0;
    }

    /// <summary>
    /// Runs of two or more consecutive steps that <see cref="BatchChunking.MayChunk"/> allows become chunked segments,
    /// with images per chunk from their largest step's reads and writes (and scratch) per image (at least one, see
    /// <see cref="BatchChunking.Images"/>); every other step is a segment of its own over the whole batch. One chunked step alone would gain nothing: what it reads and writes
    /// comes from and goes to memory either way.
    /// </summary>
    private static Segment[] PlanSegments(Step[] steps, long[] strides, int? chunkImages)
    {
        var segments = new List<Segment>();
        for (int s = 0; s < steps.Length;)
        {
            int end = s;
            long widest = 0;
            while (end < steps.Length && ChunkableFloats(steps[end], strides) is long floats)
            {
                widest = Math.Max(widest, floats);
                end++;
            }

            int images = chunkImages ?? BatchChunking.Images(widest * sizeof(float));
            if (end - s >= 2 && images > 0)
            {
                segments.Add(new Segment(s, end, images, 0));
                s = end;
                continue;
            }

            segments.Add(new Segment(s, s + 1, 0, 0));
            s++;
        }

        return segments.ToArray();
    }

    /// <summary>What one image of the step reads, writes and scratches, in floats, if the step may be chunked; else null.</summary>
    private static long? ChunkableFloats(Step step, long[] strides)
    {
        long io = strides[step.Output];
        foreach (int b in step.Inputs) io += strides[b];
        return BatchChunking.MayChunk(step.Layer, io) ? io + step.Layer.ScratchFloats(1) : null;
    }

    /// <summary>An arena buffer: its length in floats per image (aligned), the step that writes it first, the
    /// last step that reads it, and the arena buffer its producing step reads first (-1: the model's input).</summary>
    private readonly record struct ArenaBuffer(long Length, int Born, int LastRead, int Input);

    /// <summary>Whether a and b (a born first) are alive at the same step. A buffer read by the step that
    /// writes b is still alive then: a layer's output never overlaps its inputs.</summary>
    private static bool Overlap(ArenaBuffer a, ArenaBuffer b) => a.LastRead >= b.Born;

    /// <summary>Each buffer at the lowest offset where no buffer alive with it lies.</summary>
    private static long[] FirstFit(List<ArenaBuffer> buffers, out long arena)
    {
        var offsets = new long[buffers.Count];
        arena = 0;
        for (int k = 0; k < buffers.Count; k++)
        {
            offsets[k] = Lowest(buffers, offsets, k, j => true);
            arena = Math.Max(arena, offsets[k] + buffers[k].Length);
        }

        return offsets;
    }

    /// <summary>
    /// Each buffer at the end of the arena opposite to the buffer its step reads, lowest fit from that end
    /// among the buffers there: a chain ping-pongs between the two ends, so the arena is the largest
    /// pair of neighbours. The arena's size is then what keeps every bottom buffer below every top buffer alive with it.
    /// </summary>
    private static long[] TwoEnded(List<ArenaBuffer> buffers, out long arena)
    {
        int n = buffers.Count;
        var top = new bool[n];
        var fromEnd = new long[n]; // offset from the buffer's own end of the arena
        arena = 0;
        for (int k = 0; k < n; k++)
        {
            top[k] = buffers[k].Input >= 0 && !top[buffers[k].Input];
            bool side = top[k];
            fromEnd[k] = Lowest(buffers, fromEnd, k, j => top[j] == side);
            arena = Math.Max(arena, fromEnd[k] + buffers[k].Length);
        }

        for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++)
        {
            if (top[a] != top[b] && Overlap(buffers[a], buffers[b]))
                arena = Math.Max(arena, fromEnd[a] + buffers[a].Length + fromEnd[b] + buffers[b].Length);
        }

        var offsets = new long[n];
        for (int k = 0; k < n; k++) offsets[k] = top[k] ? arena - fromEnd[k] - buffers[k].Length : fromEnd[k];
        return offsets;
    }

    /// <summary>The lowest offset for buffer k that overlaps no earlier buffer alive with it among those <paramref name="among"/> picks.</summary>
    private static long Lowest(List<ArenaBuffer> buffers, long[] offsets, int k, Func<int, bool> among)
    {
        var taken = new List<(long Start, long End)>();
        for (int j = 0; j < k; j++)
            if (among(j) && Overlap(buffers[j], buffers[k])) taken.Add((offsets[j], offsets[j] + buffers[j].Length));
        taken.Sort();
        long at = 0;
        foreach (var (start, end) in taken)
        {
            if (at + buffers[k].Length <= start) break;
            at = Math.Max(at, end);
        }

        return at;
    }
}
