namespace CnnService.Imaging;

/// <summary>How an image becomes a model's input, as its <c>input</c> spec says (<see cref="ImagePreprocessor.PreprocessingOf"/>).</summary>
public enum ImagePreprocessing
{
    /// <summary>The model takes no images (<c>"color": "none"</c>).</summary>
    None,

    /// <summary>Resized to the input's height and width as it is (aspect ratio not kept), grayscale or RGB.</summary>
    Resize,

    /// <summary><c>"preprocess": "mnist"</c>: <see cref="MnistPreprocessing"/>.</summary>
    Mnist,
}
