"""Publishing Moving MNIST: pictures, the dataset card, staging and pushing to the Hugging Face Hub."""
