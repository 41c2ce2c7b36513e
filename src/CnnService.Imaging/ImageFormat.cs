namespace CnnService.Imaging;

/// <summary>The encodings the decoder accepts.</summary>
public enum ImageFormat { Png, Jpeg, Gif, Bmp, WebP }
