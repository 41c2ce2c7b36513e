namespace CnnService.Engine.Runtime;

/// <summary>How fresh conv2d and dense weights are drawn.</summary>
public enum WeightInit
{
    /// <summary>PyTorch's default: weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with a = sqrt(5)).</summary>
    PyTorch,

    /// <summary>Keras's default: weights glorot_uniform, U(-sqrt(6/(fan_in+fan_out)), +), biases zero.</summary>
    Glorot,
}
